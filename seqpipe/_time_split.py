"""Splitting in time without leaks: the gap rule of every split seqpipe makes.

Already-windowed samples overlap in time: with consecutive stride-1 windows whose
futures span ``F`` time steps (y of shape ``(n, F, d)``), the targets of the last
training windows would hold ``F - 1`` of the target steps of the first validation
window. Leaving ``gap`` samples out between the parts (scikit-learn
``TimeSeriesSplit``'s meaning) removes the overlap; ``gap="auto"`` is ``F`` when y is
3-D and 0 otherwise (one target step per sample). A series split *before* it is
windowed (a Windower inside the validated pipeline) needs no gap.

>>> import numpy as np
>>> resolve_gap("auto", np.zeros((100, 5, 1)), owner="ValidationSplit")
5
>>> holdout_split(100, 0.2, gap=5, owner="ValidationSplit")
(slice(0, 75, None), slice(80, 100, None))
"""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any

import numpy as np


def resolve_gap(gap: Any, y: Any, *, owner: str) -> int:
    """The number of samples to leave out between the training and validation parts.

    Parameters
    ----------
    gap : "auto" or int >= 0
        ``"auto"``: the length of the future window (``y.shape[1]``) when y is 3-D,
        else 0.
    y : array-like or None
        The targets of the samples being split.
    owner : str
        Named in the error message (e.g. ``"ValidationSplit"``).
    """
    if isinstance(gap, str) and gap == "auto":
        return int(np.shape(y)[1]) if y is not None and np.ndim(y) == 3 else 0
    if isinstance(gap, bool) or not isinstance(gap, Integral) or gap < 0:
        raise ValueError(f"The 'gap' parameter of {owner} must be 'auto' or an int in the "
                         f"range [0, inf). Got {gap!r} instead.")
    return int(gap)


def holdout_split(n_samples: int, validation_size: float, *, gap: int,
                  owner: str) -> tuple[slice, slice]:
    """The training part (first samples) and the validation part (the last
    ``ceil(validation_size * n_samples)``), ``gap`` samples apart.

    Raises a ValueError naming the sizes when no training sample is left.
    """
    n_validation = math.ceil(validation_size * n_samples)
    n_train = n_samples - n_validation - gap
    if n_train < 1:
        raise ValueError(
            f"{owner} with validation_size={validation_size} and gap={gap} leaves no "
            f"training sample: got {n_samples} sample(s), {n_validation} to validate on "
            f"and {gap} left out between the parts; need at least {n_validation + gap + 1}."
        )
    return slice(0, n_train), slice(n_samples - n_validation, n_samples)
