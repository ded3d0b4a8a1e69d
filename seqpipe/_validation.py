"""Input validation shared by the steps: clear errors, raised before any work.

Data in seqpipe is 2-D ``(n_samples, n_features)`` (a series is
``(n_timesteps, n_features)``) or 3-D ``(n_samples, n_timesteps, n_features)``:
the features are always on the **last** axis, and ``n_features_in_`` counts them.
"""

from __future__ import annotations

import contextvars
import numbers
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_feature_names, check_array

_SHAPES = {
    2: "2-D (n_samples, n_features)",
    3: "3-D (n_samples, n_timesteps, n_features)",
}


_TRUSTED = contextvars.ContextVar("seqpipe_trusted_input", default=False)


class trusted_input:  # noqa: N801 - used like a function: ``with trusted_input():``
    """Skip the expensive checks (finiteness, dtype) of data already validated.

    Meta-steps validate their input once per fit, then run their inner steps on
    slices of it (batches, epochs) inside this context, so that validation is not
    paid per batch. Shapes and feature counts are still recorded and compared.
    (A class, not a generator: entered on every pass, it should cost next to nothing.)
    """

    def __enter__(self) -> None:
        self._token = _TRUSTED.set(True)

    def __exit__(self, *exc_info: Any) -> None:
        _TRUSTED.reset(self._token)


def check_fits_float32(array: np.ndarray, name: str = "X") -> np.ndarray:
    """Cast to float32, refusing values that overflow it (|x| > 3.4e38) with a clear error."""
    if _TRUSTED.get():  # validated upstream: finite, and scaled by then
        return array.astype(np.float32, copy=False)
    with np.errstate(over="ignore"):
        cast = array.astype(np.float32, copy=False)
    if cast is not array and not np.isfinite(cast).all():
        raise ValueError(
            f"{name} has values too large for float32 (max |{name}| = "
            f"{np.abs(array).max():.3g} > 3.4e38), which Keras and ToNumpy compute in. "
            f"Rescale {name} first (e.g. with MeanStdNormalizer)."
        )
    return cast


def _expected(ndims: tuple[int, ...]) -> str:
    return " or ".join(_SHAPES.get(n, f"{n}-D") for n in ndims)


def check_datetime_index(data: Any, name: str) -> None:
    """Refuse pandas data whose DatetimeIndex is unsorted or has duplicates."""
    index = getattr(data, "index", None)
    if index is None or not hasattr(index, "is_monotonic_increasing") or index.dtype.kind != "M":
        return
    if index.has_duplicates:
        first = index[index.duplicated()][0]
        raise ValueError(f"{name} has a DatetimeIndex with duplicated timestamps (first: "
                         f"{first}); expected strictly increasing timestamps.")
    if not index.is_monotonic_increasing:
        raise ValueError(f"{name} has an unsorted DatetimeIndex; expected increasing "
                         f"timestamps. Sort it with {name}.sort_index().")


def as_numeric_array(X: Any, name: str = "X") -> np.ndarray:
    """Turn ``X`` into a numeric numpy array, or raise a clear error.

    Ragged nested lists, strings and non-numeric objects are refused with a message
    that names ``name``; no copy is made when ``X`` already is a numeric array.
    """
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        return X
    if sparse.issparse(X):  # sklearn's own error: dense data is required
        check_array(X, accept_sparse=False, input_name=name)
    if hasattr(X, "to_numpy"):  # pandas
        check_datetime_index(X, name)
        X = X.to_numpy()
    try:
        array = np.asarray(X)
    except ValueError as exc:  # ragged nested sequences
        raise ValueError(
            f"{name} is ragged: its samples have different lengths ({exc}). "
            f"Expected an array-like whose samples all have the same shape."
        ) from None
    if array.dtype.kind in "biuf":
        return array
    if array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has a complex dtype; "
                         f"expected real numbers.")
    if array.dtype.kind == "O":
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"{name} has dtype object with values that are not numbers ({exc}); "
                f"expected a numeric array."
            ) from None
    raise ValueError(
        f"{name} has dtype {array.dtype} ({array.dtype.kind!r} kind); expected a numeric "
        f"array of floats or integers."
    )


def check_ndim(X: np.ndarray, ndims: tuple[int, ...], name: str = "X") -> None:
    """Raise a ValueError naming ``name`` when ``X.ndim`` is not one of ``ndims``."""
    if X.ndim in ndims:
        return
    hint = ""
    if X.ndim == 1 and 2 in ndims:
        hint = (
            f" Reshape your data with {name}.reshape(-1, 1) if it has a single feature "
            f"or {name}.reshape(1, -1) if it contains a single sample."
        )
    raise ValueError(
        f"Expected a {_expected(ndims)} array for {name}, got a {X.ndim}-D array of "
        f"shape {X.shape}.{hint}"
    )


def validate_X(
    estimator: Any,
    X: Any,
    *,
    reset: bool,
    ndims: tuple[int, ...] = (2, 3),
    name: str = "X",
    allow_nan: bool = False,
) -> np.ndarray:
    """Validate ``X`` for ``estimator``: numeric, finite (NaN allowed with
    ``allow_nan``), non-empty, right ndim.

    With ``reset=True`` (in ``fit``) records ``n_features_in_`` (size of the last
    axis) and ``feature_names_in_`` (pandas input); otherwise checks them.
    """
    if _TRUSTED.get() and isinstance(X, np.ndarray):
        _check_n_features(estimator, X, reset=reset)
        return X
    _check_names(estimator, X, reset=reset)
    array = as_numeric_array(X, name)
    check_ndim(array, ndims, name)
    if array.shape[0] == 0:  # scikit-learn's words, which its estimator checks expect
        raise ValueError(f"Found array with 0 sample(s) (shape={array.shape}) while a "
                         f"minimum of 1 is required.")
    if 0 in array.shape[1:]:
        raise ValueError(f"Found array with 0 feature(s) (shape={array.shape}) while a "
                         f"minimum of 1 is required: {name} needs at least one time step "
                         f"and one feature.")
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if not allow_nan:
        _check_finite(array, name)
    elif np.isinf(array).any():  # not a copy of the data: a mask of an eighth of its bytes
        _check_finite(np.where(np.isnan(array), 0.0, array), name)
    _check_n_features(estimator, array, reset=reset)
    return array


def _check_names(estimator: Any, X: Any, *, reset: bool) -> None:
    """scikit-learn's feature-name bookkeeping, without its cost for plain arrays."""
    if isinstance(X, np.ndarray) and not hasattr(estimator, "feature_names_in_"):
        return  # no names to record, none to compare with
    _check_feature_names(estimator, X, reset=reset)


def _check_finite(array: np.ndarray, name: str) -> None:
    """One pass over the data; scikit-learn words the error ("Input X contains NaN.")."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(array.sum()):
            return
    check_array(array, dtype=None, allow_nd=True, ensure_2d=False, input_name=name)


def _check_n_features(estimator: Any, X: np.ndarray, *, reset: bool) -> None:
    n_features = X.shape[-1]
    if reset:
        estimator.n_features_in_ = n_features
        return
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and n_features != expected:
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is expecting "
            f"{expected} features as input (features are the last axis; got shape {X.shape})."
        )


def validate_y(y: Any, n_samples: int, *, name: str = "y") -> np.ndarray:
    """Validate a target: numeric, finite, with ``n_samples`` rows."""
    if y is None:
        raise ValueError(f"This step requires y to be passed, but the target {name} is None.")
    if _TRUSTED.get() and isinstance(y, np.ndarray) and len(y) == n_samples:
        return y
    array = as_numeric_array(y, name)
    if array.ndim == 0:
        raise ValueError(f"{name} must be an array with one row per sample, got a scalar.")
    if array.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} have inconsistent numbers of samples: X has {n_samples}, "
            f"{name} has {array.shape[0]} (shape {array.shape})."
        )
    _check_finite(array, name)
    return array


def validate_sample_weight(sample_weight: Any, n_samples: int, owner: str) -> np.ndarray | None:
    """``sample_weight`` as a float32 array of one finite, non-negative weight per
    sample (None stays None), or a ValueError naming ``owner``."""
    if sample_weight is None:
        return None
    weights = as_numeric_array(sample_weight, "sample_weight")
    if weights.shape != (n_samples,):
        raise ValueError(
            f"The sample_weight of {owner} must have one weight per sample, shape "
            f"({n_samples},); got shape {weights.shape}."
        )
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(weights) & (weights >= 0))
    if bad.any():
        raise ValueError(
            f"The sample_weight of {owner} must be finite and non-negative; got "
            f"{float(weights[bad][0])} at sample {int(np.flatnonzero(bad)[0])}."
        )
    return weights.astype(np.float32, copy=False)


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise scikit-learn's NotFittedError unless ``estimator`` has ``attribute``.

    A cheap stand-in for ``sklearn.utils.validation.check_is_fitted(estimator,
    attribute)`` (which resolves tags on every call), for per-batch paths.
    """
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            f"appropriate arguments before using this estimator."
        )


def check_int_param(owner: Any, name: str, value: Any, low: int = 1) -> int:
    """Check that parameter ``name`` of ``owner`` (an object or a function name) is an
    int >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        owner_name = owner if isinstance(owner, str) else type(owner).__name__
        raise ValueError(
            f"The {name!r} parameter of {owner_name} must be an int in the range "
            f"[{low}, inf). Got {value!r} instead."
        )
    return int(value)


def own_random_state(random_state: Any) -> np.random.RandomState | np.random.Generator:
    """A generator for ``random_state`` that never draws from NumPy's global one.

    An int or a generator behaves as in :func:`sklearn.utils.check_random_state` (an
    int seeds a ``RandomState``, unlike :func:`check_generator`, so that seeded
    shuffles keep their order);
    ``None`` gives a fresh generator seeded from the operating system, so that the
    user's ``np.random`` draws are left as they were (and nothing depends on who last
    reseeded the global generator).
    """
    if random_state is None:
        return np.random.default_rng()
    return check_random_state(random_state)


def check_generator(random_state: Any, *, name: str = "random_state",
                    error: type[Exception] = ValueError,
                    ) -> np.random.Generator | np.random.RandomState:
    """A NumPy generator for ``random_state``: a Generator or RandomState as it is,
    ``None`` or an int through ``numpy.random.default_rng`` (never the global one).

    Anything else raises ``error`` naming ``name`` (e.g. "The 'random_state' argument
    of Uniform.rvs").
    """
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    if random_state is None or (isinstance(random_state, numbers.Integral)
                                and not isinstance(random_state, bool)):
        return np.random.default_rng(random_state)
    raise error(f"{name} must be None, an int, a numpy.random.Generator or a "
                f"numpy.random.RandomState. Got {random_state!r} instead.")
