"""A forecasting candidate fitted on its windows a chunk at a time: its memory does
not grow with the number of windows.

Fitted all at once, ``WindowScaler -> [WindowLags] -> WindowFeatures -> Ridge`` holds
each step's output for every window, and each step's temporaries: about four times
the windows themselves (on 60 series of 1,000 daily windows, 78 MB of windows took
470 MB more to fit a Ridge). :class:`ChunkedPipeline` fits the same steps to the same
result (up to rounding) holding one chunk of windows at a time:

1. the scaler learns its statistics reading all the windows (no scaled copy);
2. the windows pass through the steps ``chunk_size`` at a time: the features' knots
   gather only the values they are quantiles of, and a Ridge adds each chunk to its
   normal equations (:class:`NormalEquations`), solved once at the end;
3. a :class:`~seqpipe.forecasting.SeriesRidge` gets its shared Ridge so, then each
   series' correction on that series' windows, a few series at a time;
4. any other last step (the GRU, a regressor of your own) is fitted on what it reads
   of all the windows, filled in a chunk at a time: one array, without the raw and
   scaled windows beside it.

Predictions are made a chunk at a time too. The baselines (``LastValue``,
``SeasonalNaive``), which learn only the windows' layout, are fitted on the first
chunk. Other pipelines (other steps before the last) are fitted as a
:class:`~seqpipe.Pipeline` is, and so is one whose windows fit in a single chunk.

The windows may be :class:`~seqpipe.forecasting.LazyWindows`, built a chunk at
a time as they are read: what a :class:`~seqpipe.forecasting.Forecaster` gives its
candidates, so that the windows of many series never exist all at once (a pipeline
fitted all at once gets them built).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.linalg
from sklearn.linear_model import Ridge

from seqpipe._composition import PASSTHROUGH
from seqpipe._validation import as_numeric_array, validate_y
from seqpipe.forecasting.baselines import LastValue, SeasonalNaive
from seqpipe.forecasting.series_ridge import SeriesRidge, _rows_by_code
from seqpipe.forecasting.window_features import WindowFeatures, WindowLags
from seqpipe.forecasting.windows import LazyWindows, WindowScaler
from seqpipe.pipeline import Pipeline

__all__ = ["ChunkedPipeline", "NormalEquations", "windows_for"]


def windows_for(estimator: Any, X: Any) -> Any:
    """The windows to give ``estimator``: ``X`` itself for a :class:`ChunkedPipeline`
    (it reads lazy windows a chunk at a time), else an array (lazy windows built)."""
    if isinstance(estimator, ChunkedPipeline) or not isinstance(X, LazyWindows):
        return X
    return np.asarray(X)


class NormalEquations:
    """The sums a ridge regression with an intercept is solved from, added a chunk of
    rows at a time.

    Solving gives scikit-learn's ``Ridge(alpha)`` up to rounding: centered data, an
    unpenalized intercept. The rows are summed relative to the first chunk's mean, so
    large feature means do not cost precision.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> y = X @ [1.0, 2.0, 3.0] + 5
    >>> equations = NormalEquations()
    >>> equations.add(X[:60], y[:60, None]).add(X[60:], y[60:, None])
    NormalEquations(n_rows=100)
    >>> coef, intercept = equations.solve(alpha=1.0)
    >>> bool(np.allclose(coef[0], Ridge(alpha=1.0).fit(X, y).coef_))
    True
    """

    def __init__(self) -> None:
        self.n_rows = 0

    def __repr__(self) -> str:
        return f"NormalEquations(n_rows={self.n_rows})"

    def add(self, X: np.ndarray, y: np.ndarray) -> NormalEquations:
        """Add rows ``X`` (n, n_features) and their targets ``y`` (n, n_targets)."""
        if self.n_rows == 0:
            self._shift = X.mean(axis=0)
            self._gram = np.zeros((X.shape[1], X.shape[1]))
            self._cross = np.zeros((X.shape[1], y.shape[1]))
            self._sum_x, self._sum_y = np.zeros(X.shape[1]), np.zeros(y.shape[1])
        shifted = X - self._shift
        self._gram += shifted.T @ shifted
        self._cross += shifted.T @ y
        self._sum_x += shifted.sum(axis=0)
        self._sum_y += y.sum(axis=0)
        self.n_rows += len(X)
        return self

    def solve(self, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """``coef`` of shape (n_targets, n_features) and ``intercept`` (n_targets,)."""
        mean_x, mean_y = self._sum_x / self.n_rows, self._sum_y / self.n_rows
        gram = self._gram - self.n_rows * np.outer(mean_x, mean_x)
        cross = self._cross - self.n_rows * np.outer(mean_x, mean_y)
        gram[np.diag_indices_from(gram)] += alpha
        try:
            coef = scipy.linalg.solve(gram, cross, assume_a="pos")
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):  # singular: least squares
            coef = scipy.linalg.lstsq(gram, cross)[0]
        intercept = mean_y - (mean_x + self._shift) @ coef
        return coef.T, intercept

    def fit_ridge(self, model: Ridge) -> Ridge:
        """``model`` (a ``Ridge``) fitted as if on all the rows added."""
        model.coef_, model.intercept_ = self.solve(model.alpha)
        model.n_features_in_, model.n_iter_, model.solver_ = len(self._shift), None, "cholesky"
        return model


class ChunkedPipeline(Pipeline):
    """A :class:`~seqpipe.Pipeline` of forecasting window steps that fits and
    predicts ``chunk_size`` windows at a time (see the module docstring).

    Parameters
    ----------
    steps : list of steps or of (name, step) pairs
        As for :class:`~seqpipe.Pipeline`. Fitted a chunk at a time when they are a
        ``WindowScaler``, any ``WindowLags`` and ``WindowFeatures``, then any last
        step (summed chunk by chunk into a ``Ridge`` with its defaults but ``alpha``
        or a ``SeriesRidge`` after ``WindowFeatures``); or only baselines.
    chunk_size : int, default=4096
        Windows per chunk.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.forecasting import WindowFeatures, WindowScaler, make_windows
    >>> data = np.sin(np.arange(400.0) / 5)[:, None]
    >>> X, y = make_windows(data, np.arange(9, 397), window_past=10, horizon=3,
    ...                     n_known_ahead=0, with_targets=True)
    >>> steps = [WindowScaler(), WindowFeatures(n_known_ahead=1), Ridge()]
    >>> chunked = ChunkedPipeline(steps, chunk_size=100).fit(X, y)
    >>> whole = Pipeline([WindowScaler(), WindowFeatures(n_known_ahead=1), Ridge()]).fit(X, y)
    >>> bool(np.allclose(chunked.predict(X), whole.predict(X)))
    True
    """

    def __init__(self, steps: list, chunk_size: int = 4096) -> None:
        super().__init__(steps)
        self.chunk_size = chunk_size

    def fit(self, X: Any, y: Any = None, **params: Any) -> ChunkedPipeline:
        """Fit the steps, chunk by chunk when they allow it (see the class doc).

        Parameters
        ----------
        X : array-like of shape (n_windows, P + H, n_channels), or LazyWindows
            Built a chunk at a time when lazy (else all at once, when the steps are
            fitted all at once).
        y : array-like of shape (n_windows, H)
        **params : dict of str -> object
            Fit parameters, as for :meth:`seqpipe.Pipeline.fit` (given any, the
            steps are fitted all at once).

        Returns
        -------
        self : ChunkedPipeline
        """
        self._check_chunk_size()
        steps = self._chunked_head()
        if params or y is None or len(X) <= self.chunk_size or (
                steps is None and not self._learns_layout_only()):
            return super().fit(np.asarray(X) if isinstance(X, LazyWindows) else X, y,
                               **params)
        self._validate_steps()
        if steps is None:  # the baselines: the first chunk shows all they learn
            return super().fit(X[:self.chunk_size], np.asarray(y)[:self.chunk_size])
        scaler, middle, final = steps
        if not isinstance(X, LazyWindows):  # sliced below; the scaler validates it
            X = as_numeric_array(X)
        y = validate_y(y, len(X))
        scaler.fit(X, y)
        Xt, yt = scaler.resample(X[:self.chunk_size], y[:self.chunk_size])
        for step in middle:  # they learn the windows' layout: the first chunk shows it
            Xt = step.fit(Xt, yt).transform(Xt)
        if middle and type(middle[-1]) is WindowFeatures and middle[-1].nonlinear:
            self._learn_knots(X, scaler, middle)
        features = bool(middle) and type(middle[-1]) is WindowFeatures
        if features and type(final) is SeriesRidge:
            self._fit_series_ridge(X, y, final)
        elif features and _plain_ridge(final):
            equations = NormalEquations()
            for Xt, yt in self._transformed(X, y):
                equations.add(Xt, yt.reshape(len(yt), -1))
            equations.fit_ridge(final)
        else:  # what it reads, built a chunk at a time: no raw or scaled copy beside it
            final.fit(*self._transformed_all(X, y))
        self._settle()
        return self

    def predict(self, X: Any) -> Any:
        """Predict ``chunk_size`` windows at a time (as :meth:`seqpipe.Pipeline.predict`)."""
        self._check_chunk_size()
        if len(X) <= self.chunk_size:
            return super().predict(np.asarray(X) if isinstance(X, LazyWindows) else X)
        return np.concatenate([super(ChunkedPipeline, self).predict(X[chunk])
                               for chunk in self._chunks(len(X))])

    # ------------------------------------------------------------------ chunks
    def _learns_layout_only(self) -> bool:
        """Whether every step only learns the windows' layout (the baselines)."""
        return all(type(step) in (LastValue, SeasonalNaive)
                   for _, step in self._named() if step != PASSTHROUGH)

    def _chunked_head(self) -> tuple[WindowScaler, list, Any] | None:
        """``(scaler, middle steps, final step)`` when the steps before the last can
        be fitted and applied a chunk at a time: a ``WindowScaler``, then
        ``WindowLags`` and ``WindowFeatures`` (which learn the layout, and knots)."""
        steps = [step for _, step in self._named() if step != PASSTHROUGH]
        if len(steps) < 2 or type(steps[0]) is not WindowScaler:
            return None
        middle = steps[1:-1]
        if any(type(step) not in (WindowLags, WindowFeatures) for step in middle) or any(
                type(step) is WindowFeatures for step in middle[:-1]):
            return None
        return steps[0], middle, steps[-1]

    def _chunks(self, n_rows: int) -> list[slice]:
        return [slice(start, start + self.chunk_size) for start in range(0, n_rows,
                                                                         self.chunk_size)]

    @staticmethod
    def _through(steps: list, X: np.ndarray, y: np.ndarray | None
                 ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(X, y)`` of some windows through fitted ``steps`` (the scaler first; y
        scaled, or None)."""
        X, y = steps[0].resample(X, y)
        for step in steps[1:]:
            X = step.transform(X)
        return X, y

    def _transformed(self, X: np.ndarray, y: np.ndarray
                     ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """What the final step reads of the windows, a chunk at a time."""
        for chunk in self._chunks(len(X)):
            yield self._through(self._head(), X[chunk], y[chunk])

    def _transformed_all(self, X: Any, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What the final step reads of all the windows, filled in a chunk at a time."""
        Xt_all = yt_all = None
        for chunk, (Xt, yt) in zip(self._chunks(len(X)), self._transformed(X, y)):
            if Xt_all is None:
                Xt_all = np.empty((len(X), *Xt.shape[1:]))  # float64, as the scaler gives
                yt_all = np.empty((len(X), *yt.shape[1:]))
            Xt_all[chunk], yt_all[chunk] = Xt, yt
        return Xt_all, yt_all

    def _learn_knots(self, X: np.ndarray, scaler: WindowScaler, middle: list) -> None:
        """The features' knots from every window (fitted on the first chunk only)."""
        values = []
        for chunk in self._chunks(len(X)):
            Xt, _ = self._through([scaler, *middle[:-1]], X[chunk], None)
            values.append(middle[-1]._knot_values(Xt).copy())
        middle[-1]._learn_knots(np.concatenate(values), Xt[:1])  # any window: its layout

    def _fit_series_ridge(self, X: np.ndarray, y: np.ndarray, final: SeriesRidge) -> None:
        """The shared Ridge from its normal equations, then the corrections of a few
        series at a time, each on all its windows."""
        final.n_features_in_ = self._head()[-1].n_features_out_
        final._begin(final.n_features_in_, y.ndim)
        shared, keys = NormalEquations(), []
        for Xt, yt in self._transformed(X, y):
            shared.add(final._shared_columns(Xt), yt.reshape(len(yt), -1))
            keys.append(Xt[:, final.series_feature].copy())  # not a view: it keeps Xt
        final.shared_ = shared.fit_ridge(Ridge(alpha=final.alpha))
        final.series_keys_, codes = np.unique(np.concatenate(keys), return_inverse=True)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(final.series_keys_) + 1))
        corrections, low = [], 0
        while low < len(final.series_keys_):  # whole series, about chunk_size windows
            high = max(low + 1, int(np.searchsorted(bounds, bounds[low] + self.chunk_size,
                                                    side="right")) - 1)
            rows = order[bounds[low]:bounds[high]]
            Xt, yt = self._through(self._head(), X[rows], y[rows])
            corrections += final._corrections(Xt, yt.reshape(len(yt), -1),
                                              _rows_by_code(codes[rows] - low, high - low))
            low = high
        final._set_corrections(corrections)

    def _check_chunk_size(self) -> None:
        size = self.chunk_size
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(f"The 'chunk_size' parameter of ChunkedPipeline must be an int in "
                             f"the range [1, inf). Got {size!r} instead.")


def _plain_ridge(model: Any) -> bool:
    """A ``Ridge`` with scikit-learn's defaults but ``alpha`` (solved from its normal
    equations)."""
    if type(model) is not Ridge:
        return False
    settings, defaults = model.get_params(), Ridge().get_params()
    settings.pop("alpha"), defaults.pop("alpha")
    return settings == defaults
