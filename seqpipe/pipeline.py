"""Pipeline: runs a list of steps; a scikit-learn estimator.

>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> from seqpipe import make_pipeline
>>> from seqpipe.steps import MeanStdNormalizer
>>> X = np.random.default_rng(0).normal(size=(50, 3))
>>> pipe = make_pipeline(MeanStdNormalizer(normalize_y=False), Ridge()).fit(X, X @ [1.0, 2.0, 3.0])
>>> pipe.predict(X).shape
(50,)
>>> list(pipe.named_steps)
['meanstdnormalizer', 'ridge']
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils import Bunch, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from seqpipe.base import (
    adapt_resample_step,
    adapt_step,
    each_batch,
    fit_resample_step,
    inverse_transform_y_step,
    partial_fit_batches,
    partial_fit_predict_batches,
    partial_fit_predict_step,
    partial_fit_resample_step,
    predict_with_truth_step,
    resample_step,
)
from seqpipe.scoring import flatten_2d

__all__ = ["Pipeline", "make_pipeline"]

PASSTHROUGH = "passthrough"


class _Layout(NamedTuple):
    named: list[tuple[str, Any]]  # (name, step) of every step
    head: list[Any]  # the steps before the last, passthrough left out
    final: Any  # the last step (or PASSTHROUGH)
    samplewise: bool  # whether every step of head is samplewise (see seqpipe.base)


def _final_has(*methods: str):
    """available_if check: the final step (or passthrough) has one of ``methods``."""

    def check(pipeline: Pipeline) -> bool:
        final = pipeline._final_step
        return final == PASSTHROUGH or any(hasattr(final, m) for m in methods)

    return check


def _final_strictly_has(method: str):
    def check(pipeline: Pipeline) -> bool:
        return hasattr(pipeline._final_step, method)

    return check


def _default_names(steps: list) -> list[str]:
    """Names as scikit-learn's make_pipeline: lowercase class names, '-1', '-2' on clashes."""
    names = [
        step[0] if isinstance(step, tuple) else type(step).__name__.lower() for step in steps
    ]
    clashes = Counter(n for s, n in zip(steps, names) if not isinstance(s, tuple))
    seen: Counter = Counter()
    for i, step in enumerate(steps):
        if not isinstance(step, tuple) and clashes[names[i]] > 1:
            seen[names[i]] += 1
            names[i] = f"{names[i]}-{seen[names[i]]}"
    return names


class Pipeline(BaseEstimator):
    """A sequence of steps fitted and applied one after the other.

    Every step but the last is a transformer step or a sample step (see
    :mod:`seqpipe.base`); the last may also be an estimator. On the fit path,
    sample steps may change the samples and y (``fit_resample``); on the predict
    path only X flows (``transform``), and predictions are brought back to the
    units of the y passed to ``fit`` by the steps' ``inverse_transform_y``.

    Parameters
    ----------
    steps : list of steps or of (name, step) pairs
        Bare steps get scikit-learn's default names (lowercase class name, with
        ``-1``, ``-2``... on clashes). A step may be ``"passthrough"``.

    Attributes
    ----------
    named_steps : Bunch
        The steps by name (also ``pipeline["name"]``).
    n_features_in_ : int
        Number of features (last axis) seen by the first step during fit.

    Examples
    --------
    >>> from seqpipe import Pipeline
    >>> from seqpipe.steps import Windower, MeanStdNormalizer
    >>> pipe = Pipeline([MeanStdNormalizer(), Windower(10, 5)])
    >>> pipe[0]
    MeanStdNormalizer()
    """

    def __init__(self, steps: list) -> None:
        self.steps = steps

    # ------------------------------------------------------------------ access
    def _layout(self) -> _Layout:
        """The steps by name, the steps before the last and the last, worked out once
        per list of steps: per-batch calls only compare the steps' ids."""
        key = tuple(map(id, self.steps))
        cached = self.__dict__.get("_layout_cache")
        if cached is None or cached[0] != key:
            names = _default_names(self.steps)
            named = [
                (name, step[1] if isinstance(step, tuple) else step)
                for name, step in zip(names, self.steps)
            ]
            head = [step for _, step in named[:-1] if step != PASSTHROUGH]
            final = named[-1][1] if named else PASSTHROUGH
            samplewise = all(getattr(step, "_samplewise", False) for step in head)
            cached = self._layout_cache = (key, _Layout(named, head, final, samplewise))
        return cached[1]

    def _named(self) -> list[tuple[str, Any]]:
        return self._layout().named

    @property
    def named_steps(self) -> Bunch:
        """Steps by name, as in scikit-learn's Pipeline."""
        return Bunch(**dict(self._named()))

    @property
    def _final_step(self) -> Any:
        return self._layout().final

    def _head(self) -> list[Any]:
        return self._layout().head

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, index: int | slice | str) -> Any:
        if isinstance(index, slice):
            return Pipeline(self.steps[index])
        if isinstance(index, str):
            return self.named_steps[index]
        return self._named()[index][1]

    @property
    def n_features_in_(self) -> int:
        """Number of features seen by the first step during fit."""
        return self._named()[0][1].n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        """Feature names seen by the first step during fit (pandas input only)."""
        return self._named()[0][1].feature_names_in_

    @property
    def classes_(self) -> np.ndarray:
        """Class labels of the final step (classifiers only)."""
        return self._final_step.classes_

    def __sklearn_is_fitted__(self) -> bool:
        final = self._final_step
        if final == PASSTHROUGH:
            final = next(reversed(self._head()), None)
            if final is None:
                return True
        try:
            check_is_fitted(final)
        except Exception:  # NotFittedError, or a step without fitted attributes
            return False
        return True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        steps = [step for _, step in self._named() if step != PASSTHROUGH]
        if not steps:
            return tags
        first, last = get_tags(steps[0]), get_tags(steps[-1])
        tags.input_tags = first.input_tags
        tags.estimator_type = last.estimator_type
        tags.target_tags = last.target_tags
        tags.classifier_tags = last.classifier_tags
        tags.regressor_tags = last.regressor_tags
        tags.transformer_tags = last.transformer_tags
        if last.transformer_tags is not None:
            preserved = [get_tags(s).transformer_tags for s in steps]
            tags.transformer_tags.preserves_dtype = [
                dtype for dtype in last.transformer_tags.preserves_dtype
                if all(t is None or dtype in t.preserves_dtype for t in preserved)
            ]
        tags.non_deterministic = any(get_tags(s).non_deterministic for s in steps)
        return tags

    # ------------------------------------------------------------------ params
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of the pipeline and, with ``deep``, of every step (``name__param``)."""
        params = {"steps": self.steps}
        if not deep:
            return params
        for name, step in self._named():
            params[name] = step
            if hasattr(step, "get_params"):
                for key, value in step.get_params(deep=True).items():
                    params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params: Any) -> Pipeline:
        """Set parameters: ``steps``, a whole step by name, or ``name__param``."""
        if "steps" in params:
            self.steps = params.pop("steps")
        if not params:
            return self
        names = [name for name, _ in self._named()]
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, sep, sub_key = key.partition("__")
            if name not in names:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {sorted(['steps', *names])!r}."
                )
            if sep:
                nested.setdefault(name, {})[sub_key] = value
            else:
                self._replace_step(names.index(name), value)
        for name, sub_params in nested.items():
            self.named_steps[name].set_params(**sub_params)
        return self

    def _replace_step(self, index: int, new_step: Any) -> None:
        steps = list(self.steps)
        old = steps[index]
        steps[index] = (old[0], new_step) if isinstance(old, tuple) else new_step
        self.steps = steps

    def _validate_steps(self) -> None:
        if not isinstance(self.steps, (list, tuple)) or len(self.steps) == 0:
            raise ValueError(
                f"The 'steps' parameter of Pipeline must be a non-empty list of steps or "
                f"(name, step) pairs. Got {self.steps!r} instead."
            )
        names = [name for name, _ in self._named()]
        duplicates = sorted(n for n, count in Counter(names).items() if count > 1)
        if duplicates:
            raise ValueError(f"Pipeline step names must be unique; duplicated: {duplicates}.")
        for name, step in self._named():
            if "__" in name or name == "steps":
                raise ValueError(f"Pipeline step name {name!r} must not contain '__' "
                                 f"nor be 'steps'.")
            if step == PASSTHROUGH:
                continue
            if not hasattr(step, "fit"):
                raise TypeError(f"Pipeline step {name!r} must be an estimator with a fit "
                                f"method, got {step!r} ({type(step).__name__}).")
        for name, step in self._named()[:-1]:
            if step != PASSTHROUGH and not hasattr(step, "transform"):
                raise TypeError(
                    f"All steps but the last must transform X: step {name!r} "
                    f"({type(step).__name__}) has no transform method."
                )

    # ------------------------------------------------------------------ paths
    def _fit_head(self, X: Any, y: Any, *, adapt: bool = False) -> tuple[Any, Any]:
        self._validate_steps()
        fit = adapt_resample_step if adapt else fit_resample_step
        for step in self._head():
            X, y = fit(step, X, y)
        self._head_fitted = True
        return X, y

    def _partial_head(self, X: Any, y: Any) -> tuple[Any, Any, list[tuple[Any, Any]]]:
        """What the final step trains on in an incremental update, and the trail of
        ``(step, its input)`` that :meth:`_inverse_y` follows back.

        The first data seen fits the steps (unless ``fit``/``adapt`` did already).
        """
        if not getattr(self, "_head_fitted", False):
            self._fit_head(X, y)
        trail = []
        for step in self._head():
            trail.append((step, X))
            X, y = partial_fit_resample_step(step, X, y)
        return X, y, trail

    def _transform_head(self, X: Any) -> tuple[Any, list[tuple[Any, Any]]]:
        """Transform X through all steps but the last; the trail of ``(step, input)``."""
        trail = []
        for step in self._head():
            trail.append((step, X))
            X = step.transform(X)
        return X, trail

    @staticmethod
    def _inverse_y(y: Any, trail: list[tuple[Any, Any]]) -> Any:
        """Undo the steps' changes of y's units, last step first."""
        for step, X in reversed(trail):
            y = inverse_transform_y_step(step, y, X)
        return y

    def _truth(self, y: Any, y_true: Any, trail: list[tuple[Any, Any]]) -> Any:
        """The truth in y's units: y itself when the steps keep the samples (samplewise),
        not its round trip through them; else ``y_true`` (what the last step saw) undone."""
        if y is not None and self._layout().samplewise:
            return np.asarray(y)
        return self._inverse_y(y_true, trail)

    def _check_fitted(self) -> None:
        if not getattr(self, "_head_fitted", False):
            check_is_fitted(self)

    def fit(self, X: Any, y: Any = None) -> Pipeline:
        """Fit every step in turn on what the previous steps produce.

        Parameters
        ----------
        X : array-like
            Training data (2-D or 3-D, or a series a Windower cuts into windows).
        y : array-like, optional
            Targets; may be derived from X by a sample step such as Windower.

        Returns
        -------
        self : Pipeline
        """
        Xt, yt = self._fit_head(X, y)
        final = self._final_step
        if final != PASSTHROUGH:
            final.fit(Xt, yt)
        return self

    def adapt(self, X: Any, y: Any = None) -> Pipeline:
        """Get ready for incremental training: fit every step but the last on all of
        ``(X, y)`` and let the last one adapt (e.g. build its model); train nothing."""
        Xt, yt = self._fit_head(X, y, adapt=True)
        adapt_step(self._final_step, Xt, yt)
        return self

    @available_if(_final_strictly_has("partial_fit"))
    def partial_fit(self, X: Any, y: Any = None) -> Pipeline:
        """One incremental update of the final step on ``(X, y)``.

        The other steps are fitted on the first data they see (``fit`` or ``adapt``,
        e.g. by MiniBatch on all the training data) and then stay fixed, except
        sample steps that act on every training pass (``partial_fit_resample``, e.g.
        DataShuffler reshuffles).
        """
        X, y, _ = self._partial_head(X, y)
        self._final_step.partial_fit(X, y)
        return self

    def partial_fit_predict(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """``partial_fit``, then ``(y_true, y_pred)`` in y's units on the same data,
        reusing what the steps made of it (the preprocessing is not redone)."""
        Xt, yt, trail = self._partial_head(X, y)
        y_true, y_pred = partial_fit_predict_step(self._final_step, Xt, yt)
        return self._truth(y, y_true, trail), self._inverse_y(y_pred, trail)

    def _fused_head(self) -> bool:
        """Whether a training pass can be preprocessed at once, not batch by batch."""
        return self._layout().samplewise and getattr(self, "_head_fitted", False)

    def partial_fit_batches(self, X: Any, y: Any, batch_size: int) -> None:
        """``partial_fit`` on each consecutive batch of ``batch_size`` samples, in turn.

        With samplewise steps before the last, the pass is preprocessed at once and
        only the last step is called per batch (same result, far fewer calls).
        """
        if not self._fused_head():
            each_batch(self.partial_fit, X, y, batch_size)
            return
        X, y, _ = self._partial_head(X, y)
        partial_fit_batches(self._final_step, X, y, batch_size)

    def partial_fit_predict_batches(self, X: Any, y: Any,
                                    batch_size: int) -> list[tuple[Any, Any]]:
        """``partial_fit_predict`` on each consecutive batch of ``batch_size`` samples,
        in turn: their ``(y_true, y_pred)`` in y's units (preprocessing fused as in
        :meth:`partial_fit_batches`)."""
        if y is None or not self._fused_head():
            return each_batch(self.partial_fit_predict, X, y, batch_size)
        Xt, yt, trail = self._partial_head(X, y)
        pairs = partial_fit_predict_batches(self._final_step, Xt, yt, batch_size)
        y_true = np.asarray(y)  # samplewise steps keep the samples: the truth is y itself
        y_pred = self._inverse_y(np.concatenate([pair[1] for pair in pairs]), trail)
        return [(y_true[start:start + batch_size], y_pred[start:start + batch_size])
                for start in range(0, len(y_true), batch_size)]

    @available_if(_final_has("fit_transform", "transform", "fit_resample"))
    def fit_transform(self, X: Any, y: Any = None) -> Any:
        """Fit the pipeline and return the transformed training X."""
        return self.fit_resample(X, y)[0]

    @available_if(_final_has("transform", "fit_resample"))
    def fit_resample(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """Fit the pipeline and return the training ``(X, y)`` after the last step.

        Makes a pipeline of data steps usable as a sample step inside another one.
        """
        Xt, yt = self._fit_head(X, y)
        final = self._final_step
        if final == PASSTHROUGH:
            return Xt, yt
        return fit_resample_step(final, Xt, yt)

    @available_if(_final_has("transform"))
    def resample(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """Apply the fitted pipeline to ``(X, y)`` as when evaluating it."""
        self._check_fitted()
        for _, step in self._named():
            if step != PASSTHROUGH:
                X, y = resample_step(step, X, y)
        return X, y

    @available_if(_final_has("transform"))
    def transform(self, X: Any) -> Any:
        """Apply every step's ``transform`` to X."""
        self._check_fitted()
        Xt, _ = self._transform_head(X)
        final = self._final_step
        return Xt if final == PASSTHROUGH else final.transform(Xt)

    @available_if(_final_has("transform"))
    def inverse_transform_y(self, y: Any, X: Any) -> Any:
        """Undo the steps' changes of y's units; ``X`` is the pipeline's input."""
        self._check_fitted()
        Xt, trail = self._transform_head(X)
        final = self._final_step
        if final != PASSTHROUGH:
            y = inverse_transform_y_step(final, y, Xt)
        return self._inverse_y(y, trail)

    @available_if(_final_strictly_has("predict"))
    def predict(self, X: Any) -> Any:
        """Predict with the final step, in the units of the y passed to ``fit``."""
        self._check_fitted()
        Xt, trail = self._transform_head(X)
        return self._inverse_y(self._final_step.predict(Xt), trail)

    @available_if(_final_strictly_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities from the final step."""
        self._check_fitted()
        return self._final_step.predict_proba(self._transform_head(X)[0])

    def predict_with_truth(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """Predict on the evaluation path: ``(y_true, y_pred)``, both in y's units.

        X and y go through every step's ``resample``, so y may be derived from X by
        a step such as Windower; the final step sees the matching ``(X, y)``.
        """
        self._check_fitted()
        layout, trail = self._layout(), []
        Xt, yt = X, y
        for step in layout.head:
            trail.append((step, Xt))
            Xt, yt = resample_step(step, Xt, yt)
        if yt is None:
            raise ValueError(
                "Pipeline.score needs y: pass y, or derive it from X with a step such as "
                "Windower."
            )
        y_true, y_pred = predict_with_truth_step(layout.final, Xt, yt)
        return self._truth(y, y_true, trail), self._inverse_y(y_pred, trail)

    @available_if(_final_strictly_has("predict"))
    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """R² of the predictions (accuracy for a classifier), in y's units.

        X and y go through the evaluation path (:meth:`predict_with_truth`), so y may
        be derived from X by a step such as Windower. 3-D targets are flattened to
        ``(n_samples, n_timesteps * n_features)`` and R² is averaged uniformly over
        those columns.
        """
        y_true, y_pred = self.predict_with_truth(X, y)
        if is_classifier(self):
            return float(accuracy_score(y_true, y_pred, sample_weight=sample_weight))
        return float(r2_score(flatten_2d(y_true), flatten_2d(y_pred),
                              sample_weight=sample_weight))

    @property
    def history_(self) -> dict[str, dict]:
        """Metrics recorded by the MetricsWrappers inside, by name (see MetricsWrapper)."""
        from seqpipe.steps.metrics import collect_history

        return collect_history(self)


def make_pipeline(*steps: Any) -> Pipeline:
    """Build a :class:`Pipeline` from steps, naming them as scikit-learn does.

    Examples
    --------
    >>> from seqpipe import make_pipeline
    >>> from seqpipe.steps import MeanStdNormalizer, ToNumpy
    >>> [name for name in make_pipeline(ToNumpy(), MeanStdNormalizer()).named_steps]
    ['tonumpy', 'meanstdnormalizer']
    """
    return Pipeline(list(steps))
