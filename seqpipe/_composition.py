"""Steps held by name: naming, access, nested parameters, fit parameters and tags of a
Pipeline.

This is the composition half of :class:`seqpipe.Pipeline` (the other half runs the
steps): what scikit-learn's ``_BaseComposition`` does for its Pipeline, for a list
whose items may also be bare steps, named as ``make_pipeline`` names them; and the
routing of fit parameters to the steps, as scikit-learn's Pipeline routes them
(``step__param``, or metadata routing when it is enabled).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.utils import Bunch, get_tags
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.validation import check_is_fitted

from seqpipe.base import StepTags, get_step_tags

PASSTHROUGH = "passthrough"


def training_routes() -> MethodMapping:
    """How seqpipe routes fit parameters to a step it holds: whether the router is
    fitted (``fit``, also ``adapt``) or updated (``partial_fit``), the step gets what
    it requested for ``fit``. One request (``set_fit_request(sample_weight=True)``)
    thus covers every training call a meta-step makes on the step's behalf."""
    return MethodMapping().add(caller="fit", callee="fit").add(caller="partial_fit",
                                                               callee="fit")


def routing_enabled() -> bool:
    """Whether scikit-learn's metadata routing is on (``set_config``)."""
    return bool(get_config().get("enable_metadata_routing", False))


class Layout(NamedTuple):
    """The steps of a composition, worked out once per list of steps."""

    named: list[tuple[str, Any]]  # (name, step) of every step
    head: list[Any]  # the steps before the last, passthrough left out
    final: Any  # the last step (or PASSTHROUGH)


def default_names(steps: list) -> list[str]:
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


class StepComposition(BaseEstimator):
    """A list of steps (bare, or ``(name, step)`` pairs) held in ``self.steps``.

    Gives ``named_steps``, indexing by position or name, slicing, ``len``, nested
    ``get_params``/``set_params`` (``name__param``), the checks of the list, and tags
    derived from the steps.
    """

    steps: list

    # ------------------------------------------------------------------ access
    def _layout(self) -> Layout:
        """Named steps, head and final step, cached per list of steps: per-batch calls
        only compare the steps' ids."""
        key = tuple(map(id, self.steps))
        cached = self.__dict__.get("_layout_cache")
        if cached is None or cached[0] != key:
            named = [
                (name, step[1] if isinstance(step, tuple) else step)
                for name, step in zip(default_names(self.steps), self.steps)
            ]
            head = [step for _, step in named[:-1] if step != PASSTHROUGH]
            final = named[-1][1] if named else PASSTHROUGH
            cached = self._layout_cache = (key, Layout(named, head, final))
        return cached[1]

    def _named(self) -> list[tuple[str, Any]]:
        return self._layout().named

    def _head(self) -> list[Any]:
        return self._layout().head

    @property
    def _final_step(self) -> Any:
        return self._layout().final

    def _steps(self) -> list[Any]:
        """Every step, passthrough left out."""
        return [step for _, step in self._named() if step != PASSTHROUGH]

    @property
    def named_steps(self) -> Bunch:
        """Steps by name, as in scikit-learn's Pipeline."""
        return Bunch(**dict(self._named()))

    def __len__(self) -> int:
        return len(self.steps)

    def __getitem__(self, index: int | slice | str) -> Any:
        if isinstance(index, slice):
            return type(self)(self.steps[index])
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

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        steps = self._steps()
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

    def __seqpipe_tags__(self) -> StepTags:
        """Keeps the samples (is samplewise) when every step does."""
        tags = [get_step_tags(step) for step in self._steps()]
        return StepTags(keeps_samples=all(t.keeps_samples for t in tags),
                        samplewise=all(t.samplewise for t in tags))

    # ------------------------------------------------------------------ params
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of the composition and, with ``deep``, of every step
        (``name__param``)."""
        params = {name: getattr(self, name) for name in self._get_param_names()}  # steps, ...
        if not deep:
            return params
        for name, step in self._named():
            params[name] = step
            if hasattr(step, "get_params"):
                for key, value in step.get_params(deep=True).items():
                    params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params: Any) -> StepComposition:
        """Set parameters: ``steps`` (or another of the class's own), a whole step by
        name, or ``name__param``."""
        if "steps" in params:
            self.steps = params.pop("steps")
        for name in set(params) & set(self._get_param_names()):
            setattr(self, name, params.pop(name))
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

    # ------------------------------------------------------------------ fit parameters
    def get_metadata_routing(self) -> MetadataRouter:
        """How fit parameters reach the steps when metadata routing is enabled.

        Each step gets, from ``fit``, ``adapt`` and ``partial_fit`` alike, the
        parameters it requested for ``fit`` (``set_fit_request``); ``score``'s
        ``sample_weight`` is this composition's own (``set_score_request``).

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        router = MetadataRouter(owner=type(self).__name__).add_self_request(self)
        for name, step in self._named():
            if step != PASSTHROUGH:
                router.add(**{name: step}, method_mapping=training_routes())
        return router

    def _route(self, method: str, params: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The fit ``params`` of ``method`` (``"fit"`` or ``"partial_fit"``) by step name:
        requested ones with metadata routing enabled, else ``name__param`` as in
        scikit-learn's Pipeline. ``{}`` when there are none."""
        if not params:
            return {}
        names = [name for name, step in self._named() if step != PASSTHROUGH]
        if routing_enabled():
            routed = process_routing(self, method, **params)
            return {name: dict(routed[name]["fit"]) for name in names}
        kind = type(self).__name__
        by_step: dict[str, dict[str, Any]] = {name: {} for name in names}
        for key, value in params.items():
            name, sep, param = key.partition("__")
            if not sep:
                raise ValueError(
                    f"{kind}.{method} does not accept the {key} parameter. Pass parameters "
                    f"to specific steps with the stepname__parameter format, e.g. "
                    f"`{kind}.{method}(X, y, {names[-1] if names else 'step'}__{key}="
                    f"{key})`, or enable metadata routing "
                    f"(`sklearn.set_config(enable_metadata_routing=True)`) and request "
                    f"it from the steps that use it (`set_fit_request({key}=True)`)."
                )
            if name not in by_step:
                raise ValueError(
                    f"{kind}.{method} got the parameter {key!r} for a step named {name!r}, "
                    f"but the {kind} has no such step (passthrough steps take none); "
                    f"its steps are {names!r}."
                )
            by_step[name][param] = value
        return by_step

    def _replace_step(self, index: int, new_step: Any) -> None:
        steps = list(self.steps)
        old = steps[index]
        steps[index] = (old[0], new_step) if isinstance(old, tuple) else new_step
        self.steps = steps

    def _validate_steps(self) -> None:
        """Check the list: non-empty, unique valid names, estimators, transformers first."""
        kind = type(self).__name__
        if not isinstance(self.steps, (list, tuple)) or len(self.steps) == 0:
            raise ValueError(
                f"The 'steps' parameter of {kind} must be a non-empty list of steps or "
                f"(name, step) pairs. Got {self.steps!r} instead."
            )
        names = [name for name, _ in self._named()]
        duplicates = sorted(n for n, count in Counter(names).items() if count > 1)
        if duplicates:
            raise ValueError(f"{kind} step names must be unique; duplicated: {duplicates}.")
        for name, step in self._named():
            if "__" in name or name == "steps":
                raise ValueError(f"{kind} step name {name!r} must not contain '__' "
                                 f"nor be 'steps'.")
            if step != PASSTHROUGH and not hasattr(step, "fit"):
                raise TypeError(f"{kind} step {name!r} must be an estimator with a fit "
                                f"method, got {step!r} ({type(step).__name__}).")
        for name, step in self._named()[:-1]:
            if step != PASSTHROUGH and not hasattr(step, "transform"):
                raise TypeError(
                    f"All steps but the last must transform X: step {name!r} "
                    f"({type(step).__name__}) has no transform method."
                )
