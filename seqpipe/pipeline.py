"""Pipeline: runs a list of steps; a scikit-learn estimator.

>>> import numpy as np
>>> from sklearn.linear_model import Ridge
>>> from seqpipe import make_pipeline
>>> from seqpipe.steps import MeanStdNormalizer
>>> X = np.random.default_rng(0).normal(size=(50, 3))
>>> pipe = make_pipeline(MeanStdNormalizer(), Ridge()).fit(X, X @ [1.0, 2.0, 3.0])
>>> pipe.predict(X).shape
(50,)
>>> list(pipe.named_steps)
['meanstdnormalizer', 'ridge']
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from seqpipe._composition import PASSTHROUGH, StepComposition
from seqpipe.base import (
    HistoryMixin,
    adapt_step,
    each_batch,
    fit_resample_step,
    follow_rows,
    get_step_tags,
    inverse_transform_y_step,
    partial_fit_batches,
    partial_fit_predict_step,
    partial_fit_resample_step,
    predict_with_truth_step,
    resample_step,
)
from seqpipe.scoring import flatten_2d

__all__ = ["Pipeline", "make_pipeline"]

Trail = list[tuple[Any, Any]]  # (step, the X it received), to undo changes of y's units
Routed = dict[str, dict[str, Any]]  # fit parameters by step name ({} when none)


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


class Pipeline(HistoryMixin, StepComposition):
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
    history_ : dict
        Metrics recorded by the MetricsWrappers inside, by name.

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

    # ------------------------------------------------------------------ fit path
    def _named_head(self) -> list[tuple[str, Any]]:
        return [(name, step) for name, step in self._named()[:-1] if step != PASSTHROUGH]

    def _fit_head(self, X: Any, y: Any, routed: Routed, *,
                  adapt: bool = False) -> tuple[Any, Any, dict[str, Any]]:
        """Fit the steps before the last; what the last step trains on, and its fit
        parameters (``routed``: by step name, see :meth:`_route`).

        Adapting fits each step (``fit``) and passes on what it makes of the data on
        the evaluation path (``resample``): getting ready is not a training pass (a
        DataShuffler does not shuffle). Also settles, for the training passes to
        come, whether the truth is y itself and whether a pass can be fused.
        """
        self._validate_steps()
        pending = dict(routed)
        for name, step in self._named_head():
            n_rows = len(X) if pending else 0
            params = pending.pop(name, {})
            if adapt:
                step.fit(X, y, **params)
                X, y = resample_step(step, X, y)
            else:
                X, y = fit_resample_step(step, X, y, **params)
            if pending:
                pending = follow_rows(step, pending, n_rows, len(X), training=not adapt)
        self._settle()
        return X, y, pending.get(self._named()[-1][0], {})

    def _settle(self) -> None:
        """Record that the steps before the last are fitted, and what their tags allow."""
        self._head_fitted = True
        final_keeps = (self._final_step == PASSTHROUGH
                       or get_step_tags(self._final_step).keeps_samples)
        head_tags = [get_step_tags(step) for step in self._head()]
        self._keeps_samples = final_keeps and all(t.keeps_samples for t in head_tags)
        self._fused = final_keeps and all(t.samplewise for t in head_tags)

    def fit(self, X: Any, y: Any = None, **params: Any) -> Pipeline:
        """Fit every step in turn on what the previous steps produce.

        Parameters
        ----------
        X : array-like
            Training data (2-D or 3-D, or a series a Windower cuts into windows).
        y : array-like, optional
            Targets; may be derived from X by a sample step such as Windower.
        **params : dict of str -> object
            Fit parameters of the steps, as in scikit-learn's Pipeline: ``step__param``
            goes to step ``step`` as ``param``; with metadata routing enabled
            (``sklearn.set_config(enable_metadata_routing=True)``), each parameter goes
            to the steps that requested it (``set_fit_request``). A parameter with one
            value per sample (``sample_weight``) follows the samples through the steps
            before its own (reordered with a DataShuffler's shuffle); a step that
            derives new samples (Windower) cannot carry it and raises a ValueError.

        Returns
        -------
        self : Pipeline

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import Ridge
        >>> from seqpipe import make_pipeline
        >>> from seqpipe.steps import MeanStdNormalizer
        >>> X = np.arange(20.0).reshape(10, 2)
        >>> weights = np.r_[np.zeros(5), np.ones(5)]
        >>> pipe = make_pipeline(MeanStdNormalizer(), Ridge())
        >>> pipe.fit(X, X[:, 0], ridge__sample_weight=weights).predict(X).shape
        (10,)
        """
        Xt, yt, final_params = self._fit_head(X, y, self._route("fit", params))
        final = self._final_step
        if final != PASSTHROUGH:
            final.fit(Xt, yt, **final_params)
        return self

    @available_if(_final_has("fit_transform", "transform", "fit_resample"))
    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> Any:
        """Fit the pipeline (fit ``params`` as in :meth:`fit`) and return the
        transformed training X."""
        return self.fit_resample(X, y, **params)[0]

    @available_if(_final_has("transform", "fit_resample"))
    def fit_resample(self, X: Any, y: Any = None, **params: Any) -> tuple[Any, Any]:
        """Fit the pipeline (fit ``params`` as in :meth:`fit`) and return the training
        ``(X, y)`` after the last step.

        Makes a pipeline of data steps usable as a sample step inside another one.
        """
        Xt, yt, final_params = self._fit_head(X, y, self._route("fit", params))
        final = self._final_step
        if final == PASSTHROUGH:
            return Xt, yt
        return fit_resample_step(final, Xt, yt, **final_params)

    # ------------------------------------------------------------------ incremental training
    def adapt(self, X: Any, y: Any = None, **params: Any) -> Pipeline:
        """Get ready for incremental training: fit every step but the last on all of
        ``(X, y)`` and let the last one adapt (e.g. build its model); train nothing.
        Fit ``params`` as in :meth:`fit`."""
        Xt, yt, final_params = self._fit_head(X, y, self._route("fit", params), adapt=True)
        adapt_step(self._final_step, Xt, yt, **final_params)
        return self

    def _partial_head(self, X: Any, y: Any,
                      routed: Routed) -> tuple[Any, Any, Trail, dict[str, Any]]:
        """What the final step trains on in an incremental update, the trail that
        :meth:`_inverse_y` follows back, and the final step's fit parameters.

        The first data seen fits the steps (unless ``fit``/``adapt`` did already).
        """
        if not getattr(self, "_head_fitted", False):
            self._fit_head(X, y, routed)
        trail = []
        if not routed:
            for step in self._head():
                trail.append((step, X))
                X, y = partial_fit_resample_step(step, X, y)
            return X, y, trail, {}
        pending = dict(routed)
        for name, step in self._named_head():
            trail.append((step, X))
            params, n_rows = pending.pop(name, {}), len(X)
            X, y = partial_fit_resample_step(step, X, y, **params)
            pending = follow_rows(step, pending, n_rows, len(X),
                                  training=hasattr(step, "partial_fit_resample"))
        return X, y, trail, pending.get(self._named()[-1][0], {})

    @available_if(_final_strictly_has("partial_fit"))
    def partial_fit(self, X: Any, y: Any = None, **params: Any) -> Pipeline:
        """One incremental update of the final step on ``(X, y)``.

        The other steps are fitted on the first data they see (``fit`` or ``adapt``,
        e.g. by MiniBatch on all the training data) and then stay fixed, except
        sample steps that act on every training pass (``partial_fit_resample``, e.g.
        DataShuffler reshuffles). Fit ``params`` as in :meth:`fit`.
        """
        self._partial_fit(X, y, self._route("partial_fit", params))
        return self

    def _partial_fit(self, X: Any, y: Any, routed: Routed) -> None:
        X, y, _, final_params = self._partial_head(X, y, routed)
        self._final_step.partial_fit(X, y, **final_params)

    def partial_fit_batches(self, X: Any, y: Any, batch_size: int, *,
                            predict: bool = False, **params: Any) -> list[tuple[Any, Any]] | None:
        """``partial_fit`` on each consecutive batch of ``batch_size`` samples, in turn;
        with ``predict``, each batch's ``(y_true, y_pred)`` in y's units, right after
        its update (see :func:`seqpipe.base.partial_fit_batches`). Fit ``params`` as in
        :meth:`fit`, sliced with the batches.

        When the steps before the last are samplewise and the last keeps the samples
        (see :class:`seqpipe.base.StepTags`), the pass is preprocessed at once and
        only the last step is called per batch: the same result, far fewer calls.
        """
        routed = self._route("partial_fit", params)
        if not (getattr(self, "_head_fitted", False) and self._fused):
            update = self._partial_fit_predict if predict else self._partial_fit
            results = each_batch(lambda X_batch, y_batch, **batch: update(X_batch, y_batch,
                                                                          batch.get("routed", {})),
                                 X, y, batch_size, {"routed": routed} if routed else None)
            return results if predict else None
        Xt, yt, trail, final_params = self._partial_head(X, y, routed)
        pairs = partial_fit_batches(self._final_step, Xt, yt, batch_size, predict=predict,
                                    **final_params)
        if not predict:
            return None
        y_pred = self._inverse_y(np.concatenate([pair[1] for pair in pairs]), trail)
        y_true = yt if y is None else np.asarray(y)  # the steps keep the samples
        return [(y_true[start:start + batch_size], y_pred[start:start + batch_size])
                for start in range(0, len(y_pred), batch_size)]

    def _partial_fit_predict(self, X: Any, y: Any, routed: Routed) -> tuple[Any, Any]:
        """``partial_fit``, then ``(y_true, y_pred)`` in y's units on the same data,
        reusing what the steps made of it (the preprocessing is not redone)."""
        Xt, yt, trail, final_params = self._partial_head(X, y, routed)
        y_true, y_pred = partial_fit_predict_step(self._final_step, Xt, yt, **final_params)
        return self._truth(y, y_true, trail, self._keeps_samples), self._inverse_y(y_pred, trail)

    # ------------------------------------------------------------------ predict and evaluation
    def _check_fitted(self) -> None:
        if not getattr(self, "_head_fitted", False):
            check_is_fitted(self)

    def _transform_head(self, X: Any) -> tuple[Any, Trail]:
        """Transform X through all steps but the last; the trail of ``(step, input)``."""
        trail = []
        for step in self._head():
            trail.append((step, X))
            X = step.transform(X)
        return X, trail

    @staticmethod
    def _inverse_y(y: Any, trail: Trail) -> Any:
        """Undo the steps' changes of y's units, last step first."""
        for step, X in reversed(trail):
            y = inverse_transform_y_step(step, y, X)
        return y

    def _truth(self, y: Any, y_true: Any, trail: Trail, keeps_samples: bool) -> Any:
        """The truth in y's units: y itself when every step keeps the samples (not its
        round trip through them); else what the last step saw (``y_true``), undone."""
        if y is not None and keeps_samples:
            return np.asarray(y)
        return self._inverse_y(y_true, trail)

    @available_if(_final_has("transform"))
    def transform(self, X: Any) -> Any:
        """Apply every step's ``transform`` to X."""
        self._check_fitted()
        Xt, _ = self._transform_head(X)
        final = self._final_step
        return Xt if final == PASSTHROUGH else final.transform(Xt)

    @available_if(_final_has("transform"))
    def resample(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """Apply the fitted pipeline to ``(X, y)`` as when evaluating it."""
        self._check_fitted()
        for step in self._steps():
            X, y = resample_step(step, X, y)
        return X, y

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
        trail = []
        Xt, yt = X, y
        for step in self._head():
            trail.append((step, Xt))
            Xt, yt = resample_step(step, Xt, yt)
        if yt is None and get_step_tags(self._final_step).keeps_samples:
            raise ValueError(
                "Pipeline.score needs y: pass y, or derive it from X with a step such as "
                "Windower."
            )
        y_true, y_pred = predict_with_truth_step(self._final_step, Xt, yt)
        keeps_samples = get_step_tags(self).keeps_samples
        return self._truth(y, y_true, trail, keeps_samples), self._inverse_y(y_pred, trail)

    # ------------------------------------------------------------------ table output
    def set_output(self, *, transform: str | None = None) -> Pipeline:
        """Set the output container of every step that transforms X (scikit-learn's
        ``Pipeline.set_output``); a step that cannot output tables says why.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            See e.g. :meth:`seqpipe.steps.MeanStdNormalizer.set_output`.

        Returns
        -------
        self : Pipeline

        Examples
        --------
        >>> import numpy as np
        >>> from seqpipe import make_pipeline
        >>> from seqpipe.steps import MeanStdNormalizer, ToNumpy
        >>> pipe = make_pipeline(ToNumpy(), MeanStdNormalizer()).set_output(transform="pandas")
        >>> type(pipe.fit_transform(np.arange(6.0).reshape(3, 2))).__name__
        'DataFrame'
        """
        for name, step in self._named():
            if step == PASSTHROUGH or not hasattr(step, "transform"):
                continue
            if not hasattr(step, "set_output"):
                raise ValueError(f"Pipeline step {name!r} ({type(step).__name__}) has no "
                                 f"set_output: its output container cannot be set.")
            step.set_output(transform=transform)
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the features out of the last step, through every step's
        ``get_feature_names_out`` (scikit-learn's ``Pipeline.get_feature_names_out``).

        Parameters
        ----------
        input_features : array-like of str or None, default=None

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        names = input_features
        for name, step in self._named():
            if step == PASSTHROUGH:
                continue
            if not hasattr(step, "get_feature_names_out"):
                raise AttributeError(f"Estimator {name} ({type(step).__name__}) does not "
                                     f"provide get_feature_names_out.")
            names = step.get_feature_names_out(names)
        return names

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
