"""Step kinds and tags: sample steps (``fit_resample``) and their defaults, and the
:class:`StepTags` seqpipe may assume of any step."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


@dataclasses.dataclass
class StepTags:
    """What seqpipe may assume of a step (see :mod:`seqpipe.base`, "Tags").

    Parameters
    ----------
    keeps_samples : bool, default=True
        Every path maps sample *i* to sample *i* (nothing dropped, derived, reordered).
    samplewise : bool, default=False
        ``keeps_samples``, and each sample is transformed on its own by state that no
        later training pass changes: a training pass may be preprocessed at once.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from seqpipe.base import get_step_tags
    >>> from seqpipe.steps import DataShuffler, MeanStdNormalizer
    >>> get_step_tags(MeanStdNormalizer())
    StepTags(keeps_samples=True, samplewise=True)
    >>> get_step_tags(DataShuffler()).keeps_samples       # it reorders
    False
    """

    keeps_samples: bool = True
    samplewise: bool = False


def get_step_tags(step: Any) -> StepTags:
    """The :class:`StepTags` of ``step``: its ``__seqpipe_tags__()``, or defaults.

    The defaults: transformers and plain estimators keep the samples; sample steps
    (``fit_resample``) and steps with an evaluation path of their own
    (``predict_with_truth``) may not. Nothing is samplewise unless it says so.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import get_step_tags
    >>> from seqpipe.steps import Windower
    >>> get_step_tags(Ridge())                       # defaults for any estimator
    StepTags(keeps_samples=True, samplewise=False)
    >>> get_step_tags(Windower(5, 1)).keeps_samples  # derives windows
    False
    """
    declared = getattr(step, "__seqpipe_tags__", None)
    if declared is not None:
        return declared()
    keeps = not (is_sample_step(step) or hasattr(step, "predict_with_truth"))
    return StepTags(keeps_samples=keeps, samplewise=False)


class SampleMixin:
    """Defaults for sample steps.

    A sample step implements ``fit_resample(X, y)`` and ``transform(X)``; this mixin
    supplies ``resample`` (transform X, keep y), ``fit`` (fit_resample, then
    return self) and ``fit_transform`` (the X half of ``fit_resample``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from sklearn.base import BaseEstimator
    >>> from seqpipe.base import SampleMixin
    >>> class DropFirst(SampleMixin, BaseEstimator):
    ...     # drops the first sample while fitting; predictions keep every sample
    ...     def fit_resample(self, X, y):
    ...         return X[1:], y[1:]
    ...     def transform(self, X):
    ...         return X
    >>> step = DropFirst()
    >>> step.fit(X, y) is step, step.resample(X, y)[0].shape    # the mixin's fit, resample
    (True, (6, 2))
    """

    def fit(self, X: Any, y: Any = None) -> SampleMixin:
        """Fit the step on ``(X, y)`` and return it (calls ``fit_resample``)."""
        self.fit_resample(X, y)
        return self

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """Fit the step and return the transformed X of ``fit_resample``."""
        return self.fit_resample(X, y)[0]

    def resample(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """Apply the fitted step to ``(X, y)`` without learning anything.

        The default transforms X and leaves y as is; steps that derive or rescale
        y override it.
        """
        return self.transform(X), y


def is_sample_step(step: Any) -> bool:
    """Whether ``step`` follows the sample-step protocol (has ``fit_resample``).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.base import is_sample_step
    >>> from seqpipe.steps import DataShuffler
    >>> is_sample_step(DataShuffler()), is_sample_step(Ridge())
    (True, False)
    """
    return hasattr(step, "fit_resample")
