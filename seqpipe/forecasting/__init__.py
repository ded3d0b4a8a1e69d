"""Forecasting: a :class:`Forecaster` that chooses its model by validation in time
order, learns one series or many at once, reads past and future covariates and
calendar features without leaking the future, gives calibrated prediction intervals,
and backtests over many origins.

See :class:`Forecaster` and :func:`backtest` for examples.
"""

from seqpipe.forecasting.backtest import backtest, backtest_fitted, summary
from seqpipe.forecasting.baselines import LastValue, SeasonalNaive
from seqpipe.forecasting.calendar import CalendarFeatures
from seqpipe.forecasting.chunked import ChunkedPipeline
from seqpipe.forecasting.forecaster import Forecaster
from seqpipe.forecasting.panel import from_long
from seqpipe.forecasting.season import detect_season
from seqpipe.forecasting.series_ridge import SeriesRidge
from seqpipe.forecasting.target_windows import TargetWindows
from seqpipe.forecasting.window_features import WindowFeatures, WindowLags
from seqpipe.forecasting.windows import LazyWindows, WindowScaler, make_windows

__all__ = ["CalendarFeatures", "ChunkedPipeline", "Forecaster", "LastValue", "LazyWindows",
           "SeasonalNaive",
           "SeriesRidge", "TargetWindows", "WindowFeatures", "WindowLags", "WindowScaler",
           "backtest", "backtest_fitted", "detect_season", "from_long", "make_windows",
           "summary"]
