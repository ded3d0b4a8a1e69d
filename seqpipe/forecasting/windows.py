"""The window tensor every forecasting candidate reads, and the steps that prepare it.

For a forecast made at origin ``t`` (the last time step observed) over ``H`` steps,
with ``P`` past steps read, a window is an array of shape ``(P + H, C)``:

- rows ``0 .. P-1`` are the time steps ``t-P+1 .. t``; rows ``P .. P+H-1`` are the
  steps to forecast, ``t+1 .. t+H``;
- channel 0 is the target, then the past covariates, then the future covariates
  (calendar features among them): the last ``n_known_ahead`` channels;
- what is not known at the origin — the target and the past covariates over the
  forecast rows — is NaN. A model cannot read the future by mistake: NaN poisons
  whatever it touches.

The target of a window is ``y[t+1 .. t+H]``, shape ``(H,)``. :func:`make_windows`
builds windows; :class:`WindowScaler` expresses them in units a model learns well
(NaN become 0); :mod:`seqpipe.forecasting.window_features` shapes what the models read
of them.

>>> import numpy as np
>>> data = np.column_stack([np.arange(6.0), 10 + np.arange(6.0)])  # target, a future covariate
>>> X, y = make_windows(data, np.array([2]), window_past=2, horizon=2, n_known_ahead=1,
...                     with_targets=True)
>>> X[0].tolist()
[[1.0, 11.0], [2.0, 12.0], [nan, 13.0], [nan, 14.0]]
>>> y.tolist()
[[3.0, 4.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin

from seqpipe._validation import check_fitted, validate_X, validate_y
from seqpipe.base import SampleMixin, StepTags

__all__ = ["LazyWindows", "WindowScaler", "make_windows"]

_TINY = 1e-12
_CHUNK = 1024  # windows read at a time where all are summed


def make_windows(data: np.ndarray, origins: np.ndarray, *, window_past: int, horizon: int,
                 n_known_ahead: int, with_targets: bool = False, series: Any = None
                 ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The windows of ``data`` at ``origins`` (see the module docstring).

    Parameters
    ----------
    data : ndarray of shape (n_timesteps, n_channels) or (n_series, n_timesteps, n_channels)
        Target first, future covariates last. Rows after the last observed step may
        hold the future covariates of the horizon (their target is ignored). With many
        series, ``series`` says which each window reads.
    origins : ndarray of int
        The index in ``data`` of each window's last observed step; ``origins -
        window_past + 1 >= 0`` and ``origins + horizon < n_timesteps``.
    window_past, horizon, n_known_ahead : int
        ``P``, ``H``, and the number of trailing channels known over the horizon.
    with_targets : bool, default=False
        Also return the targets ``data[t+1 .. t+H, 0]`` of each window.
    series : ndarray of int, optional
        For 3-D ``data``: the series of each window (as long as ``origins``).

    Returns
    -------
    X : ndarray of shape (len(origins), window_past + horizon, n_channels)
    y : ndarray of shape (len(origins), horizon), with ``with_targets``

    Examples
    --------
    A target and a covariate known ahead; windows of 2 past and 2 forecast rows from
    origin 2 (the target is NaN where it is not known yet):

    >>> import numpy as np
    >>> from seqpipe.forecasting import make_windows
    >>> data = np.column_stack([np.arange(6.0), 10 + np.arange(6.0)])
    >>> X, y = make_windows(data, np.array([2]), window_past=2, horizon=2, n_known_ahead=1,
    ...                     with_targets=True)
    >>> X[0].tolist(), y.tolist()
    ([[1.0, 11.0], [2.0, 12.0], [nan, 13.0], [nan, 14.0]], [[3.0, 4.0]])
    """
    origins = np.asarray(origins, dtype=np.intp)
    views = sliding_window_view(data, window_past + horizon, axis=-2)  # (..., n, C, P + H)
    starts = origins - window_past + 1
    chosen = views[starts] if data.ndim == 2 else views[np.asarray(series, np.intp), starts]
    if with_targets:  # before the masking below, which writes into ``chosen``
        y = np.array(chosen[:, 0, window_past:], dtype=np.float64)
    # a copy (``chosen`` is one: fancy indexing), contiguous: faster to read later
    X = np.ascontiguousarray(np.moveaxis(chosen, -1, 1), dtype=np.float64)
    X[:, window_past:, :data.shape[-1] - n_known_ahead] = np.nan
    return (X, y) if with_targets else X


class LazyWindows:
    """The windows :func:`make_windows` gives, built only when read: ``windows[rows]``
    builds those rows' windows, ``np.asarray(windows)`` all of them.

    What a :class:`~seqpipe.forecasting.Forecaster` hands a
    :class:`~seqpipe.forecasting.ChunkedPipeline`, which reads a chunk at a time: the
    windows of many series never exist all at once (each repeats ``P + H`` rows of
    the data). :meth:`column` reads one row and channel of every window straight from
    the data.

    Parameters
    ----------
    data, origins, window_past, horizon, n_known_ahead, series
        As for :func:`make_windows`.

    Examples
    --------
    >>> import numpy as np
    >>> data = np.column_stack([np.arange(6.0), 10 + np.arange(6.0)])
    >>> windows = LazyWindows(data, np.array([2, 3]), window_past=2, horizon=2,
    ...                       n_known_ahead=1)
    >>> windows.shape, windows[1:].tolist()
    ((2, 4, 2), [[[2.0, 12.0], [3.0, 13.0], [nan, 14.0], [nan, 15.0]]])
    >>> windows.column(2, 1).tolist(), windows.targets().tolist()
    ([13.0, 14.0], [[3.0, 4.0], [4.0, 5.0]])
    """

    def __init__(self, data: np.ndarray, origins: np.ndarray, *, window_past: int,
                 horizon: int, n_known_ahead: int, series: Any = None) -> None:
        self.data = data
        self.origins = np.asarray(origins, dtype=np.intp)
        self.series = None if series is None else np.asarray(series, dtype=np.intp)
        self.window_past, self.horizon, self.n_known_ahead = window_past, horizon, n_known_ahead
        self.shape = (len(self.origins), window_past + horizon, data.shape[-1])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows: Any) -> np.ndarray:
        """The windows of ``rows`` (a slice or an array of positions)."""
        return make_windows(self.data, self.origins[rows], window_past=self.window_past,
                            horizon=self.horizon, n_known_ahead=self.n_known_ahead,
                            series=None if self.series is None else self.series[rows])

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self[:]  # NumPy casts it to ``dtype``

    def _values(self, steps: np.ndarray, channel: int) -> np.ndarray:
        """``data`` at each window's time step ``steps`` (one per window), a copy."""
        if self.data.ndim == 2:
            return np.array(self.data[steps, channel], dtype=np.float64)
        return np.array(self.data[self.series, steps, channel], dtype=np.float64)

    def column(self, row: int, channel: int) -> np.ndarray:
        """``np.asarray(self)[:, row, channel]``, without building the windows."""
        row, channel = row % self.shape[1], channel % self.shape[2]
        values = self._values(self.origins - self.window_past + 1 + row, channel)
        if row >= self.window_past and channel < self.shape[2] - self.n_known_ahead:
            values[:] = np.nan  # not known at the origin
        return values

    def targets(self) -> np.ndarray:
        """The targets of each window, shape (n_windows, horizon)."""
        return np.column_stack([self._values(self.origins + step, 0)
                                for step in range(1, self.horizon + 1)])


def _column(X: Any, row: int, channel: int) -> np.ndarray:
    """``X[:, row, channel]`` of windows, lazy or not."""
    return X.column(row, channel) if isinstance(X, LazyWindows) else X[:, row, channel]


def past_length(X: np.ndarray, horizon: int, owner: str) -> int:
    past = X.shape[1] - horizon
    if past < 1:
        raise ValueError(f"{owner}: windows of {X.shape[1]} rows cannot hold {horizon} "
                         f"forecast rows and at least one past row.")
    return past


class WindowScaler(SampleMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Scale forecasting windows: the target relative to its last observed value,
    covariates standardized, the level as a channel of its own; undo it on
    predictions.

    For a window with last observed target ``level``:

    - channel 0 becomes ``(target - level) / scale_``;
    - every other channel ``c`` becomes ``(x - mean_[c]) / std_[c]``;
    - a last channel is appended, ``(level - level_mean_) / level_std_`` on every row,
      so a model knows the level without reading it off the relative window;
    - unknown values (NaN) become 0;
    - the targets ``y`` become ``(y - level) / scale_``, which is what a model learns;
      :meth:`inverse_transform_y` turns its predictions back into y's units.

    With ``per_series``, the windows come from many series and their last channel is
    the series' code (0, 1, ...; what a many-series
    :class:`~seqpipe.forecasting.Forecaster` gives): every statistic is learned per
    series, so series whose scales differ by orders of magnitude all reach a model in
    the same units, and the code channel becomes the series' identity as a model can
    use it: its standardized log scale. No level channel is appended then, unless
    ``level=True`` (standardized by each series' own statistics): a level relative to
    a series' own training windows misleads a model shared by the series on those that
    have few of them (on a panel whose series start over its first 75 %, with it the
    pooled Ridge lost to the seasonal-naive forecast, 1.32x one model per series;
    without it, 0.97x), but each series' own correction of a
    :class:`~seqpipe.forecasting.SeriesRidge` reads it well.

    Statistics are learned in ``fit`` (on the training windows) only. A model that
    predicts 0 repeats the last value: the right answer on a random walk.

    Parameters
    ----------
    per_series : bool, default=False
        Learn the statistics per series, read from the last channel.
    level : bool, optional
        Append the level channel; default: with one series, not with ``per_series``.

    Attributes
    ----------
    horizon_ : int
        Forecast rows per window (from fit's y).
    scale_ : float, or ndarray of shape (n_series,) with ``per_series``
        Standard deviation of ``y - level`` over the training windows.
    mean_, std_ : ndarray of shape (n_channels,), or (n_series, n_channels)
        Per-channel statistics (channel 0 unused).
    level_mean_, level_std_ : float, or ndarray of shape (n_series,) with ``per_series``
        Statistics of the level, with the level channel.

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.forecasting import WindowScaler, make_windows
    >>> data = np.column_stack([10 + np.arange(12.0), np.arange(12.0) % 3])
    >>> X, y = make_windows(data, np.array([5, 6, 7]), window_past=4, horizon=2,
    ...                     n_known_ahead=1, with_targets=True)
    >>> Xs, ys = WindowScaler().fit_resample(X, y)
    >>> Xs.shape, bool(np.isnan(Xs).any())          # the level as a channel; NaN become 0
    ((3, 6, 3), False)
    """

    def __init__(self, per_series: bool = False, level: bool | None = None) -> None:
        self.per_series = per_series
        self.level = level

    def __seqpipe_tags__(self) -> StepTags:
        """Samplewise: each window on its own, nothing learned on later passes."""
        return StepTags(keeps_samples=True, samplewise=True)

    def fit_resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Learn the statistics on the windows ``X`` and targets ``y``; return both
        scaled.

        Parameters
        ----------
        X : array-like of shape (n_windows, P + H, n_channels)
        y : array-like of shape (n_windows, H)
        """
        self.fit(X, y)
        return self.resample(X, y)

    def fit(self, X: Any, y: Any = None) -> WindowScaler:
        """Learn the statistics on the windows ``X`` and targets ``y`` (reading them:
        no scaled copy is made).

        Parameters
        ----------
        X : array-like of shape (n_windows, P + H, n_channels), or LazyWindows (read a
            chunk at a time)
        y : array-like of shape (n_windows, H)

        Returns
        -------
        self : WindowScaler
        """
        lazy = isinstance(X, LazyWindows)  # validated a chunk, read a chunk at a time
        checked = validate_X(self, X[:_CHUNK] if lazy else X, reset=True, ndims=(3,),
                             allow_nan=True)
        X = X if lazy else checked
        if y is None:
            raise ValueError("WindowScaler needs y, the targets of shape "
                             "(n_windows, horizon).")
        y = validate_y(y, len(X))
        if y.ndim != 2:
            raise ValueError(f"WindowScaler expects y of shape (n_windows, horizon); got "
                             f"{y.shape}.")
        self.horizon_ = y.shape[1]
        past = past_length(X, self.horizon_, "WindowScaler")
        codes = self._codes(X, fitted=False)
        level = _column(X, past - 1, 0)
        scale = _std_by(codes, y - level[:, None])
        mean, std = _channel_statistics(codes, X)
        level_mean, level_std = _mean_std_by(codes, level)
        if self.per_series:
            self.scale_, self.mean_, self.std_ = scale, mean, std
            if self._with_level():
                self.level_mean_, self.level_std_ = level_mean, level_std
        else:
            self.scale_, self.level_mean_, self.level_std_ = (
                float(scale[0]), float(level_mean[0]), float(level_std[0]))
            self.mean_, self.std_ = mean[0], std[0]
        return self

    def _with_level(self) -> bool:
        """Whether the level channel is appended."""
        level = getattr(self, "level", None)  # older pickles: none
        return not self.per_series if level is None else bool(level)

    def _codes(self, X: np.ndarray, *, fitted: bool = True) -> np.ndarray:
        """Each window's series code (all 0 without ``per_series``)."""
        if not self.per_series:
            return np.zeros(len(X), dtype=np.intp)
        codes = _column(X, 0, -1)
        if not np.all((codes >= 0) & (codes == np.round(codes))):
            raise ValueError("WindowScaler(per_series=True) reads the series' code (0, 1, "
                             "...) in the windows' last channel; it holds other values.")
        codes = codes.astype(np.intp)
        if fitted:
            unseen = codes[(codes >= len(self.scale_))
                           | ~np.isfinite(self.scale_[np.minimum(codes,
                                                                 len(self.scale_) - 1)])]
            if len(unseen):
                raise ValueError(f"WindowScaler: series code {int(unseen[0])} had no "
                                 f"window in fit, so it has no statistics.")
        return codes

    def transform(self, X: Any) -> np.ndarray:
        """The scaled windows: with ``per_series`` the code channel turned into the
        series' identity; the level channel appended (see ``level``)."""
        check_fitted(self, "scale_")
        X = validate_X(self, X, reset=False, ndims=(3,), allow_nan=True)
        past = past_length(X, self.horizon_, "WindowScaler")
        codes = self._codes(X)
        scale, mean, std = self._statistics(codes)
        level = X[:, past - 1:past, 0]
        with_level = self._with_level()
        scaled = np.empty((*X.shape[:2], X.shape[2] + with_level))
        scaled[:, :, 0] = (X[:, :, 0] - level) / scale[:, None]
        scaled[:, :, 1:X.shape[2]] = (X[:, :, 1:] - mean[:, None, 1:]) / std[:, None, 1:]
        if self.per_series:
            scaled[:, :, X.shape[2] - 1] = self._identity(codes)[:, None]
        if with_level:
            level_mean, level_std = self.level_mean_, self.level_std_
            if self.per_series:
                level_mean, level_std = level_mean[codes, None], level_std[codes, None]
            scaled[:, :, -1] = (level - level_mean) / level_std
        scaled[np.isnan(scaled)] = 0.0  # unknown
        return scaled

    def _statistics(self, codes: np.ndarray) -> tuple[np.ndarray, ...]:
        """``scale_``, ``mean_`` and ``std_`` of each window's series."""
        def by(values: Any) -> np.ndarray:
            array = np.asarray(values)
            return (array if self.per_series else array[None])[codes]
        return by(self.scale_), by(self.mean_), by(self.std_)

    def _identity(self, codes: np.ndarray) -> np.ndarray:
        """The series' standardized log scale."""
        logs = np.log(self.scale_)
        seen = np.isfinite(logs)
        return (logs[codes] - logs[seen].mean()) / max(logs[seen].std(), _TINY)

    def resample(self, X: Any, y: Any = None) -> tuple[np.ndarray, Any]:
        """``transform(X)``, and ``y`` relative to each window's level, scaled."""
        Xt = self.transform(X)
        if y is None:
            return Xt, None
        X = np.asarray(X)
        scale = self._statistics(self._codes(X))[0]
        level = X[:, -self.horizon_ - 1, 0]
        return Xt, (np.asarray(y) - level[:, None]) / scale[:, None]

    def inverse_transform_y(self, y: Any, X: Any) -> np.ndarray:
        """Predictions in scaled units back to y's units; ``X`` is this step's input."""
        check_fitted(self, "scale_")
        X = np.asarray(X)
        scale = self._statistics(self._codes(X))[0]
        level = X[:, -self.horizon_ - 1, 0]
        y = np.asarray(y).reshape(len(level), self.horizon_)
        return y * scale[:, None] + level[:, None]


def _mean_std_by(codes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the finite ``values`` of each code (0 and 1 where
    there are none, or where the deviation is 0)."""
    finite = np.isfinite(values)
    clean = np.where(finite, values, 0.0)
    count = np.bincount(codes, weights=finite)
    with np.errstate(invalid="ignore"):  # 0 / 0 for a code without values
        mean = np.bincount(codes, weights=clean) / count
        centered = np.where(finite, values - mean[codes], 0.0)
        std = np.sqrt(np.bincount(codes, weights=centered ** 2) / count)
    return np.nan_to_num(mean), _positive_array(std)


def _channel_statistics(codes: np.ndarray, X: Any, chunk_size: int = _CHUNK
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each channel's finite values over all rows of the
    windows of each code, shape (n_codes, n_channels) (0 and 1 where there are none, or
    where the deviation is 0); read a chunk of windows at a time, not copied whole."""
    n_codes, n_channels = codes.max() + 1, X.shape[2]
    chunks = [slice(start, start + chunk_size) for start in range(0, len(X), chunk_size)]

    def by_code(per_window: Any) -> np.ndarray:  # per code, sums of (chunk, k) window values
        totals = None
        for chunk in chunks:
            values = per_window(X[chunk], codes[chunk])
            totals = np.zeros((n_codes, values.shape[1])) if totals is None else totals
            for column in range(values.shape[1]):
                totals[:, column] += np.bincount(codes[chunk], weights=values[:, column],
                                                 minlength=n_codes)
        return totals

    # counts and sums in one pass (lazy windows are built once per pass), then squares
    sums = by_code(lambda part, _: np.hstack([np.isfinite(part).sum(axis=1),
                                              np.nansum(part, axis=1)]))
    count = sums[:, :n_channels]
    with np.errstate(invalid="ignore"):  # 0 / 0 for a code without values
        mean = sums[:, n_channels:] / count
        squares = by_code(lambda part, part_codes: np.nansum(
            (part - mean[part_codes][:, None, :]) ** 2, axis=1))
        std = np.sqrt(squares / count)
    return np.nan_to_num(mean), _positive_array(std)


def _std_by(codes: np.ndarray, errors: np.ndarray) -> np.ndarray:
    """Standard deviation of each code's rows of ``errors`` (all their values); NaN for
    a code without rows, 1 where it is 0."""
    count = np.bincount(codes)
    rows = np.repeat(codes, errors.shape[1])
    _, std = _mean_std_by(rows, errors.ravel())
    return np.where(count > 0, std, np.nan)


def _positive_array(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values) & (values > _TINY), values, 1.0)
