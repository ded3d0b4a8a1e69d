"""MeanStdNormalizer: standardize features, and y with the same statistics.

>>> import numpy as np
>>> from seqpipe.steps import MeanStdNormalizer
>>> X = np.array([[0.0, 10.0], [2.0, 30.0]])
>>> norm = MeanStdNormalizer()
>>> Xt, yt = norm.fit_resample(X, X + 1)
>>> Xt.round(3)
array([[-1., -1.],
       [ 1.,  1.]])
>>> norm.inverse_transform_y(yt, X).round(3)
array([[ 1., 11.],
       [ 3., 31.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from seqpipe._validation import check_fitted, validate_X, validate_y
from seqpipe.base import SampleMixin, StepTags
from seqpipe.steps._output import TableOutputMixin


class MeanStdNormalizer(TableOutputMixin, SampleMixin, TransformerMixin, BaseEstimator,
                        auto_wrap_output_keys=None):
    """Subtract the mean and divide by ``std_factor`` times the standard deviation.

    Statistics are per feature (the last axis). With ``per_sample=False`` they are
    learned in ``fit`` over all samples and time steps. With ``per_sample=True``
    each sample of a 3-D ``(n_samples, n_timesteps, n_features)`` X is normalized
    by its own statistics over the time axis, computed anew for every X (the
    normalization of seed 003, ``ForEachDataInput(MeanStdNormalizer())``).

    It is a sample step: while fitting it may also scale y with the statistics of
    X, so that a forecaster learns in normalized units, and then scales
    predictions back in ``inverse_transform_y``, so that a Pipeline answers in y's
    units. Whether y is scaled is decided once, in ``fit``/``fit_resample``, and
    recorded in ``scales_y_``: ``resample`` scales y and ``inverse_transform_y``
    un-scales predictions if and only if y was scaled during fit.

    Parameters
    ----------
    per_sample : bool, default=False
        Use each sample's own statistics over its time axis instead of learned ones.
    normalize_y : {"auto", True, False}, default="auto"
        Whether to scale y with X's statistics.

        - ``"auto"``: scale y when it holds X's features on its last axis, that is
          when ``y.ndim >= 2 and y.shape[-1] == n_features_in_`` (a forecast of X,
          such as the futures a :class:`~seqpipe.steps.Windower` cuts); otherwise
          leave y unchanged. A 1-D y is never scaled, even when X has a single
          feature: a 1-D y is a separate target in scikit-learn's convention
          (``X`` of shape ``(n, 1)`` with ``y`` of shape ``(n,)``); pass y of shape
          ``(n, 1)``, or ``normalize_y=True``, to scale it.
        - ``True``: always scale y; y's last axis must hold X's features (a 1-D y
          counts as one feature), otherwise fitting raises a ValueError.
        - ``False``: leave y unchanged.
    std_factor : float, default=1.0
        Divide by ``std_factor * std`` (seed 003 uses 2.5).
    epsilon : float, default=1e-5
        Added to the standard deviation, so constant features do not divide by zero.

    Attributes
    ----------
    mean_, std_ : ndarray of shape (n_features,)
        Learned statistics (``per_sample=False`` only).
    n_features_in_ : int
        Number of features (last axis) seen during fit.
    n_samples_seen_ : int
        Number of samples seen during fit.
    scales_y_ : bool or None
        Whether y was scaled during fit, hence whether ``resample`` scales y and
        ``inverse_transform_y`` un-scales predictions. ``None`` only when fit saw no
        y with ``normalize_y="auto"`` (e.g. the fresh copy
        :class:`~seqpipe.steps.ForEach` fits on each sample): then ``resample`` and
        ``inverse_transform_y`` apply the ``"auto"`` rule to the y they are given.
    y_shape_ : tuple of int or None
        Shape of one sample of the y scaled during fit (``y.shape[1:]``), ``None``
        when none was. While ``scales_y_`` is True, ``resample`` and
        ``inverse_transform_y`` refuse a y of any other shape.
    feature_names_in_ : ndarray of str
        Names of the features seen during fit (pandas input only);
        ``get_feature_names_out`` returns them, and ``set_output(transform="pandas")``
        makes 2-D outputs DataFrames with these columns.

    See Also
    --------
    seqpipe.steps.ForEach : apply a fresh copy of a step to each sample.

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.steps import MeanStdNormalizer
    >>> X = np.array([[0.0, 10.0], [2.0, 30.0]])
    >>> norm = MeanStdNormalizer().fit(X, [5.0, 7.0])  # 1-D y: left unchanged
    >>> norm.scales_y_
    False
    >>> norm = MeanStdNormalizer().fit(X, X + 1)       # y with X's 2 features: scaled
    >>> norm.scales_y_, norm.y_shape_
    (True, (2,))
    """

    def __seqpipe_tags__(self) -> StepTags:
        """Samplewise: each sample on its own, nothing learned on later passes."""
        return StepTags(keeps_samples=True, samplewise=True)

    def __init__(
        self,
        *,
        per_sample: bool = False,
        normalize_y: bool | str = "auto",
        std_factor: float = 1.0,
        epsilon: float = 1e-5,
    ) -> None:
        self.per_sample = per_sample
        self.normalize_y = normalize_y
        self.std_factor = std_factor
        self.epsilon = epsilon

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        ndims = (3,) if self.per_sample else (2, 3)
        return validate_X(self, X, reset=reset, ndims=ndims)

    def _statistics(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and scale broadcastable against X: its own (per sample) or learned ones."""
        dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float64)
        if self.per_sample:
            return self._mean_scale(X.mean(axis=1, keepdims=True),
                                    X.std(axis=1, keepdims=True), dtype)
        return self._learned_statistics(X, dtype)

    def _y_statistics(self, y: np.ndarray, mean: np.ndarray,
                      scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The statistics of X (``mean``, ``scale``) made to broadcast against y."""
        if self.per_sample:
            return _squeeze_for(y, mean), _squeeze_for(y, scale)
        return self._learned_statistics(y, mean.dtype)

    def _learned_statistics(self, data: np.ndarray,
                            dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """Learned mean and scale in ``dtype``, tiled to the shape of one 3-D sample of
        ``data``: numpy broadcasts a contiguous block several times faster than a
        vector of a few features. Cached until the next fit."""
        cached = self.__dict__.setdefault("_learned", {})  # reset by fit
        key = (dtype, self.std_factor, self.epsilon, data.shape[1:] if data.ndim == 3 else ())
        if key not in cached:
            mean, scale = self._mean_scale(self.mean_, self.std_, dtype)
            if data.ndim == 3:
                mean, scale = (np.ascontiguousarray(np.broadcast_to(stat, data.shape[1:]))
                               for stat in (mean, scale))
            cached[key] = mean, scale
        return cached[key]

    def _mean_scale(self, mean: np.ndarray, std: np.ndarray,
                    dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        scale = self.std_factor * (std + self.epsilon)
        return mean.astype(dtype, copy=False), scale.astype(dtype, copy=False)

    def fit_resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Learn the statistics of X, decide whether y is scaled; return X and y normalized.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_timesteps, n_features)
        y : array-like, optional
            Scaled as ``normalize_y`` says (see the class docstring); with
            ``normalize_y=True``, y's last axis must hold X's features.

        Returns
        -------
        Xt, yt : the normalized X, and y (scaled if ``scales_y_``, else unchanged).
        """
        self._check_params()
        X_in, X = X, self._validate(X, reset=True)
        if y is not None:
            y = validate_y(y, len(X))
        scales_y = self._decide_scales_y(y)
        if not self.per_sample:
            with np.errstate(over="ignore", invalid="ignore"):
                self.mean_, self.std_ = _feature_statistics(X)
            if not (np.isfinite(self.mean_).all() and np.isfinite(self.std_).all()):
                raise ValueError(
                    f"X has values too large to normalize: its standard deviation overflows "
                    f"(max |X| = {np.abs(X).max():.3g}); expected |X| below about 1e150. "
                    f"Rescale X first."
                )
            self._learned = {}
        self.n_samples_seen_ = len(X)
        self.scales_y_ = scales_y
        self.y_shape_ = y.shape[1:] if scales_y and y is not None else None
        Xt, yt = self._apply(X, y)  # X is checked: not again (nor its feature names)
        return self._output(Xt, X_in), yt

    def _decide_scales_y(self, y: np.ndarray | None) -> bool | None:
        """Whether fit scales ``y`` (see ``scales_y_``); ``normalize_y=True`` checks y."""
        if isinstance(self.normalize_y, str):  # "auto"
            return None if y is None else _holds_features(y, self.n_features_in_)
        if self.normalize_y and y is not None:
            self._check_y_features(y)
        return bool(self.normalize_y)

    def _check_params(self) -> None:
        if not (isinstance(self.std_factor, (int, float)) and self.std_factor > 0):
            raise ValueError(
                f"The 'std_factor' parameter of MeanStdNormalizer must be a float in the range "
                f"(0, inf). Got {self.std_factor!r} instead."
            )
        normalize_y = self.normalize_y
        if not (isinstance(normalize_y, (bool, np.bool_))
                or (isinstance(normalize_y, str) and normalize_y == "auto")):
            raise ValueError(
                f"The 'normalize_y' parameter of MeanStdNormalizer must be a bool or a str "
                f"among {{'auto'}}. Got {normalize_y!r} instead."
            )

    def _check_y_features(self, y: np.ndarray) -> None:
        n_features = 1 if y.ndim == 1 else y.shape[-1]
        if n_features != self.n_features_in_:
            raise ValueError(
                f"normalize_y=True scales y with X's statistics, so y's last axis must hold "
                f"X's {self.n_features_in_} features; got y of shape {y.shape}. Set "
                f"normalize_y=False to leave y unchanged, or normalize_y='auto' to scale y "
                f"only when it holds X's features."
            )

    def _scales(self, y: np.ndarray) -> bool:
        """Whether ``resample``/``inverse_transform_y`` (un-)scale ``y``: fit's decision,
        with y's shape checked against fit's; the "auto" rule if fit saw no y."""
        scales = self.scales_y_
        if scales is None:
            return _holds_features(y, self.n_features_in_)
        if scales:
            expected = self.y_shape_
            if expected is None:  # normalize_y=True, fitted without y
                self._check_y_features(y)
            elif y.shape[1:] != expected:
                raise ValueError(
                    f"MeanStdNormalizer scaled y of shape (n_samples"
                    f"{''.join(f', {n}' for n in expected)}) during fit, so it scales and "
                    f"un-scales only y of that shape; got y of shape {y.shape}. Refit it on "
                    f"y of this shape, or set normalize_y=False to leave y unchanged."
                )
        return scales

    def transform(self, X: Any) -> np.ndarray:
        """Normalize X with the learned (or its own per-sample) statistics."""
        return self.resample(X)[0]

    def resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """Normalize X, and y too if it was scaled during fit (``scales_y_``); nothing
        is learned. While ``scales_y_`` is True, y must have the shape of fit's y."""
        check_fitted(self, "n_samples_seen_")
        Xt, yt = self._apply(self._validate(X, reset=False), y)
        return self._output(Xt, X), yt

    def _apply(self, X: np.ndarray, y: Any) -> tuple[np.ndarray, Any]:
        """Normalize a checked X, and y if it is scaled (see :meth:`resample`)."""
        mean, scale = self._statistics(X)
        Xt = _standardize(X, mean, scale)
        if y is None or self.scales_y_ is False:
            return Xt, y
        y_array = np.asarray(y)
        if not self._scales(y_array):
            return Xt, y
        y = y_array
        y_mean, y_scale = self._y_statistics(y, mean, scale)
        return Xt, _standardize(y, y_mean, y_scale)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo the normalization of X (learned statistics only)."""
        check_fitted(self, "n_samples_seen_")
        if self.per_sample:
            raise ValueError(
                "inverse_transform of a per_sample MeanStdNormalizer needs the original X; "
                "use inverse_transform_y(y, X) instead."
            )
        X = np.asarray(X)
        mean, scale = self._statistics(X)
        return _unstandardize(X, mean, scale)

    def inverse_transform_y(self, y: Any, X: Any) -> Any:
        """Scale predictions back to y's units; ``X`` is this step's input.

        Un-scales if and only if y was scaled during fit (``scales_y_``); the identity
        otherwise. While ``scales_y_`` is True, y must have the shape of fit's y.
        """
        check_fitted(self, "n_samples_seen_")
        if self.scales_y_ is False:
            return y
        y_array = np.asarray(y)
        if not self._scales(y_array):
            return y
        y = y_array
        y_mean, y_scale = self._y_statistics(y, *self._statistics(np.asarray(X)))
        return _unstandardize(y, y_mean, y_scale)


def _standardize(data: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(data - mean) / scale`` in one new array (no temporary)."""
    out = np.subtract(data, mean)
    return np.divide(out, scale, out=out)


def _unstandardize(data: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``data * scale + mean`` in one new array (no temporary)."""
    out = np.multiply(data, scale)
    return np.add(out, mean, out=out)


def _feature_statistics(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each feature (last axis) over all other axes.

    Reduced on one contiguous row per feature: numpy sums those pairwise, about ten
    times faster (and more accurately) than over the leading axes of X.
    """
    rows = np.ascontiguousarray(X.reshape(-1, X.shape[-1]).T)
    return rows.mean(axis=1), rows.std(axis=1)


def _holds_features(y: np.ndarray, n_features: int) -> bool:
    """The "auto" rule: y holds X's features on its last axis (a 1-D y never does)."""
    return y.ndim >= 2 and y.shape[-1] == n_features


def _squeeze_for(y: np.ndarray, stat: np.ndarray) -> np.ndarray:
    """Make a statistic broadcast against y (y may have fewer axes than X)."""
    if stat.ndim == 3 and y.ndim < 3:  # per-sample stats (n, 1, d) for y of shape (n, d)
        stat = stat[:, 0, :]
    if stat.ndim == 2 and y.ndim == 1:  # ... or (n, 1) for y of shape (n,)
        stat = stat[:, 0]
    return stat
