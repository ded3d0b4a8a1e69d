"""Fit parameters with one row per sample: sliced with the rows, and brought to the rows
a step made (``sample_indices_``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils import _safe_indexing

from seqpipe.base._kinds import get_step_tags


def _n_rows(value: Any) -> int | None:
    """The number of rows of an array-like, None for anything else (scalars, str, dict)."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        return None
    try:
        return len(value)
    except TypeError:  # a 0-d array
        return None


def take_rows(params: dict[str, Any], rows: slice | np.ndarray, n_rows: int) -> dict[str, Any]:
    """``params`` with every value of ``n_rows`` rows taken at ``rows`` (a slice or
    indices); other values, and dicts of them (recursively), as they are.

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.base import take_rows
    >>> params = {"sample_weight": np.arange(6.0), "alpha": 1.0}
    >>> take_rows(params, slice(0, 2), n_rows=6)          # row-aligned values are sliced
    {'sample_weight': array([0., 1.]), 'alpha': 1.0}
    """
    if not params:
        return params
    taken = {}
    for name, value in params.items():
        if isinstance(value, dict):
            value = take_rows(value, rows, n_rows)
        elif _n_rows(value) == n_rows:
            value = value[rows] if isinstance(value, np.ndarray) else _safe_indexing(value, rows)
        taken[name] = value
    return taken


def follow_rows(step: Any, params: dict[str, Any], n_in: int, n_out: int, *,
                training: bool = True) -> dict[str, Any]:
    """Fit parameters of the steps after ``step`` (any dict, nested by step name),
    their row-aligned values brought to the rows ``step`` made of ``n_in`` rows.

    A step that keeps the samples changes nothing. Otherwise, on the fit path
    (``training``) the rows are the step's ``sample_indices_``; on the evaluation path
    (``resample``), which never reorders, they are the same rows if ``n_out == n_in``.
    Raises a ValueError naming the step and the parameters when the rows cannot follow.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.arange(12.0).reshape(6, 2)
    >>> y = X.sum(axis=1)
    >>> from seqpipe.base import follow_rows
    >>> from seqpipe.steps import DataShuffler
    >>> shuffler = DataShuffler(random_state=0)
    >>> _ = shuffler.fit_resample(X, y)
    >>> weights = follow_rows(shuffler, {"sample_weight": np.arange(6.0)}, 6, 6)
    >>> bool((weights["sample_weight"] == shuffler.sample_indices_).all())   # same order
    True
    """
    aligned = sorted(_row_aligned(params, n_in))
    if not aligned or get_step_tags(step).keeps_samples:
        return params
    if training:
        rows = getattr(step, "sample_indices_", None)
    else:
        rows = slice(None) if n_out == n_in else None
    if rows is None or (not isinstance(rows, slice) and len(rows) != n_out):
        raise ValueError(
            f"{type(step).__name__} changes the samples ({n_in} in, {n_out} out) without "
            f"saying which input sample each output sample comes from (sample_indices_), "
            f"so the fit parameter(s) {aligned}, given per input sample, cannot follow "
            f"them to the steps after it. Pass data already cut into the samples the "
            f"model trains on (e.g. windows), with one value per sample, to a pipeline "
            f"without {type(step).__name__}."
        )
    return take_rows(params, rows, n_in)


def _row_aligned(params: dict[str, Any], n_rows: int) -> set[str]:
    """Names of the values (in nested dicts too) with ``n_rows`` rows."""
    names = set()
    for name, value in params.items():
        if isinstance(value, dict):
            names |= _row_aligned(value, n_rows)
        elif _n_rows(value) == n_rows:
            names.add(name)
    return names
