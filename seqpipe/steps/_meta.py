"""MetaStepMixin: what every meta-step shares (wrapping, delegation, tags)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sklearn.utils import get_tags
from sklearn.utils.metadata_routing import MetadataRouter, process_routing
from sklearn.utils.metaestimators import available_if

from seqpipe._composition import routing_enabled, training_routes
from seqpipe._validation import check_fitted
from seqpipe.base import StepTags, adapt_step, get_step_tags, predict_with_truth_step
from seqpipe.pipeline import Pipeline


def wrapped_has(method: str):
    def check(meta: MetaStepMixin) -> bool:
        return hasattr(meta._wrapped(), method)

    return check


class MetaStepMixin:
    """Wraps ``self.step`` (a step, or a list of steps run as a Pipeline).

    The fitted wrapped step is ``step_`` (the same object as ``step``, fitted in
    place like in scikit-learn's Pipeline). ``predict``, ``predict_proba``,
    ``transform``, ``predict_with_truth`` and ``score`` delegate to it, so a meta-step
    is a full estimator wherever its step is one.

    Fit parameters (``fit(X, y, sample_weight=w)``) go to the wrapped step with every
    training call made on its behalf; with metadata routing enabled, only those it
    requested for ``fit`` (see :meth:`get_metadata_routing`).
    """

    #: Whether the meta-step validates X itself (dense arrays) or leaves it to its step.
    _validates_input = False

    def _wrapped(self) -> Any:
        step = getattr(self, "step_", None)
        if step is None:
            step = self.step
            if isinstance(step, (list, tuple)):
                step = Pipeline(list(step))
        return step

    def _start(self) -> Any:
        """Bind ``step_`` to the wrapped step (a fresh Pipeline for a list of steps)."""
        self.__dict__.pop("step_", None)
        self.step_ = self._wrapped()
        return self.step_

    def _started(self) -> Any:
        """``step_``, started on the first training call that came without ``adapt``."""
        step = getattr(self, "step_", None)
        return self._start() if step is None else step

    def _record_n_features(self) -> None:
        """Expose the wrapped step's ``n_features_in_`` once it is fitted."""
        n_features = getattr(self.step_, "n_features_in_", None)
        if n_features is not None:
            self.n_features_in_ = n_features

    def adapt(self, X: Any, y: Any = None, **params: Any) -> Any:
        """Let the wrapped step get ready for incremental training on ``(X, y)``."""
        adapt_step(self._start(), X, y, **self._step_params("fit", params))
        return self

    def get_metadata_routing(self) -> MetadataRouter:
        """How fit parameters reach the wrapped step when metadata routing is enabled:
        it gets, from this step's ``fit``, ``adapt`` and ``partial_fit`` alike, what it
        requested for ``fit`` (``set_fit_request``); ``score``'s ``sample_weight`` is
        this step's own (``set_score_request``).

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        return (MetadataRouter(owner=type(self).__name__).add_self_request(self)
                .add(step=self._wrapped(), method_mapping=training_routes()))

    def _step_params(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The fit ``params`` of ``method`` that go to the wrapped step: all of them,
        or those it requested when metadata routing is enabled."""
        if params and routing_enabled():
            return dict(process_routing(self, method, **params)["step"]["fit"])
        return params

    @available_if(wrapped_has("predict"))
    def predict(self, X: Any) -> Any:
        """Predict with the wrapped step."""
        check_fitted(self, "step_")
        return self.step_.predict(X)

    @available_if(wrapped_has("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        """Class probabilities from the wrapped step."""
        check_fitted(self, "step_")
        return self.step_.predict_proba(X)

    @available_if(wrapped_has("transform"))
    def transform(self, X: Any) -> Any:
        """Transform with the wrapped step."""
        check_fitted(self, "step_")
        return self.step_.transform(X)

    def predict_with_truth(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """``(y_true, y_pred)`` of the wrapped step on the evaluation path."""
        check_fitted(self, "step_")
        return predict_with_truth_step(self.step_, X, y)

    @available_if(wrapped_has("score"))
    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Score of the wrapped step (R² for regressors)."""
        check_fitted(self, "step_")
        if sample_weight is None:
            return self.step_.score(X, y)
        return self.step_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._wrapped())
        tags.estimator_type = inner.estimator_type
        tags.target_tags = inner.target_tags
        tags.input_tags = inner.input_tags
        if self._validates_input:  # then it takes dense arrays only
            tags.input_tags = replace(inner.input_tags, sparse=False)
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.transformer_tags = inner.transformer_tags
        tags.non_deterministic = inner.non_deterministic
        return tags

    def __seqpipe_tags__(self) -> StepTags:
        """Keeps the samples when the wrapped step does; never samplewise (a meta-step
        acts on each call as a whole: batches, records, plots)."""
        return StepTags(keeps_samples=get_step_tags(self._wrapped()).keeps_samples,
                        samplewise=False)

