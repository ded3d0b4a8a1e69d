"""Plots to PNG files: forecasts (past, true and predicted future) and metric curves.

Figures are drawn with matplotlib's object API, each on its own Agg canvas: nothing
needs a display, and neither ``matplotlib.pyplot`` nor the process's backend is
touched, so a notebook's own plots are unaffected. matplotlib is imported on the
first plot, not with :mod:`seqpipe` or :mod:`seqpipe.steps`.

>>> import tempfile
>>> from pathlib import Path
>>> from seqpipe.plotting import plot_history
>>> history = {"train": {"mse": [1.0, 0.5]}, "validation": {"mse": [1.2, 0.7]}}
>>> with tempfile.TemporaryDirectory() as tmp:
...     plot_history(history, Path(tmp) / "mse.png").read_bytes()[:4]
b'\\x89PNG'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_errors_by_step", "plot_history", "plot_intervals", "plot_predictions"]


def _figure(n_rows: int, width: float, row_height: float) -> tuple[Any, np.ndarray]:
    """A new figure on its own Agg canvas and its ``(n_rows, 1)`` axes (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, row_height * n_rows))
    FigureCanvasAgg(fig)
    return fig, fig.subplots(n_rows, 1, squeeze=False)


def _save(fig: Any, path: str | os.PathLike) -> Path:
    """Lay out ``fig`` and write it as a PNG to ``path``."""
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=80)
    return path


def plot_predictions(
    X: np.ndarray,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    path: str | os.PathLike,
    *,
    max_plotted: int = 5,
    title: str = "Predictions",
) -> Path:
    """Write one PNG with a row per sample: past, true future and predicted future.

    Parameters
    ----------
    X : ndarray of shape (n_samples, past, n_features)
    y_true, y_pred : ndarray of shape (n_samples, future, n_features)
    path : path of the PNG to write.
    max_plotted : int, default=5
        Number of samples (the first ones) to plot.
    title : str, default="Predictions"

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from seqpipe.plotting import plot_predictions
    >>> X, y = np.zeros((3, 10, 2)), np.ones((3, 5, 2))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     png = plot_predictions(X, y, y + 0.1, Path(tmp) / "predictions.png", max_plotted=2)
    ...     png.name, png.read_bytes()[:4]
    ('predictions.png', b'\\x89PNG')
    """
    X, y_true, y_pred = (np.asarray(a) for a in (X, y_true, y_pred))
    for name, array in (("X", X), ("y_true", y_true), ("y_pred", y_pred)):
        if array.ndim != 3:
            raise ValueError(f"plot_predictions needs 3-D windows (n_samples, n_timesteps, "
                             f"n_features); {name} has shape {array.shape}.")
    n = min(max_plotted, len(X))
    past, future = X.shape[1], y_true.shape[1]
    t_past, t_future = np.arange(past), np.arange(past, past + future)
    fig, axes = _figure(n, 8, 2.2)
    for i, ax in enumerate(axes[:, 0]):
        for f in range(y_true.shape[-1]):
            color = f"C{f}"
            ax.plot(t_past, X[i, :, f], "o-", color=color, lw=1, ms=3,
                    label="past" if f == 0 else None)
            ax.plot(t_future, y_true[i, :, f], "x--", color=color, lw=1,
                    label="true future" if f == 0 else None)
            ax.plot(t_future, y_pred[i, :, f], "s-", color=color, alpha=0.5, ms=3,
                    label="predicted" if f == 0 else None)
        ax.axvline(past - 0.5, color="grey", lw=0.5)
    axes[0, 0].legend(loc="upper left", fontsize=8)
    axes[0, 0].set_title(title)
    return _save(fig, path)


def plot_history(history: Any, path: str | os.PathLike, *, title: str = "Metrics") -> Path:
    """Plot train and validation curves, one panel per metric, to a PNG.

    Parameters
    ----------
    history : estimator or dict
        A fitted estimator with ``history_`` (e.g. an EpochRepeater), the
        ``history_`` of one MetricsWrapper (``{"train": {...}, "validation": {...}}``)
        or several by name (``{name: {"train": ..., "validation": ...}}``).
    path : path of the PNG to write.
    title : str, default="Metrics"

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    A history dict, or a fitted estimator whose ``history_`` is one:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from seqpipe.plotting import plot_history
    >>> history = {"train": {"mse": [1.0, 0.5]}, "validation": {"mse": [1.2, 0.7]}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     plot_history(history, Path(tmp) / "mse.png", title="MSE per epoch").read_bytes()[:4]
    b'\\x89PNG'
    """
    history = getattr(history, "history_", history)
    if "train" in history:
        history = {"": history}
    panels = [(name, metric) for name, h in history.items() for metric in h["train"]]
    if not panels:
        raise ValueError("plot_history needs at least one recorded metric; got none.")
    fig, axes = _figure(len(panels), 7, 2.6)
    for ax, (name, metric) in zip(axes[:, 0], panels):
        for subset, style in (("train", "-"), ("validation", "--")):
            values = history[name][subset].get(metric, [])
            if values:
                ax.plot(np.arange(1, len(values) + 1), values, style, label=subset)
        ax.set_ylabel(metric)
        ax.set_title(f"{name} {metric}".strip(), fontsize=9)
        ax.legend(fontsize=8)
        if all(v > 0 for subset in history[name].values() for v in subset.get(metric, [])):
            ax.set_yscale("log")
    fig.suptitle(title)
    return _save(fig, path)


def plot_errors_by_step(table: Any, path: str | os.PathLike, *,
                        title: str = "Backtest errors by step ahead") -> Path:
    """Plot the mean absolute error of a backtest's forecasts and of its baselines by
    step ahead (the table of :func:`seqpipe.forecasting.summary`) to a PNG.

    Parameters
    ----------
    table : DataFrame
        Indexed by step ahead (and ``"overall"``, left out), with the columns ``mae``,
        and ``last_value_mae`` and ``seasonal_naive_mae`` when present.
    path : path of the PNG to write.
    title : str, default="Backtest errors by step ahead"

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from seqpipe.plotting import plot_errors_by_step
    >>> table = pd.DataFrame({"mae": [1.0, 1.5, 1.2], "last_value_mae": [2.0, 3.0, 2.5]},
    ...                      index=pd.Index([1, 2, "overall"], name="step"))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     plot_errors_by_step(table, Path(tmp) / "errors.png").read_bytes()[:4]
    b'\\x89PNG'
    """
    steps = table.drop(index="overall", errors="ignore")
    fig, axes = _figure(1, 7, 3.2)
    ax = axes[0, 0]
    for column, label, style in (("mae", "model", "o-"), ("last_value_mae", "last value", "--"),
                                 ("seasonal_naive_mae", "seasonal naive", ":")):
        if column in steps and steps[column].notna().any():
            ax.plot(steps.index.astype(int), steps[column], style, label=label, ms=3)
    ax.set_xlabel("steps ahead")
    ax.set_ylabel("mean absolute error")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_intervals(frame: Any, path: str | os.PathLike, *, step: int = 1,
                   max_series: int = 4, title: str = "Forecasts and intervals") -> Path:
    """Plot a backtest's forecasts ``step`` ahead against the actual values, the
    prediction intervals shaded (the widest lightest), one row per series, to a PNG.

    Parameters
    ----------
    frame : DataFrame
        What :func:`seqpipe.forecasting.backtest` returns: columns ``date``,
        ``step``, ``actual``, ``prediction``, ``lower_L``/``upper_L`` pairs, and
        ``series`` with many series.
    path : path of the PNG to write.
    step : int, default=1
        The step ahead plotted.
    max_series : int, default=4
        Series plotted, the first ones.
    title : str, default="Forecasts and intervals"

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from seqpipe.plotting import plot_intervals
    >>> frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=3), "step": 1,
    ...                       "actual": [1.0, 2.0, 3.0], "prediction": [1.1, 1.9, 3.2],
    ...                       "lower_80": [0.5, 1.4, 2.6], "upper_80": [1.6, 2.5, 3.7]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     plot_intervals(frame, Path(tmp) / "intervals.png").read_bytes()[:4]
    b'\\x89PNG'
    """
    rows = frame[frame["step"] == step]
    groups = list(rows.groupby("series", sort=False)) if "series" in rows else [(None, rows)]
    groups = groups[:max_series]
    levels = sorted((float(column.removeprefix("lower_")) for column in rows.columns
                     if column.startswith("lower_")), reverse=True)
    fig, axes = _figure(len(groups), 8, 2.6)
    for ax, (name, part) in zip(axes[:, 0], groups):
        for shade, level in enumerate(levels):
            ax.fill_between(part["date"], part[f"lower_{level:g}"], part[f"upper_{level:g}"],
                            color="tab:blue", alpha=0.15 + 0.15 * shade, lw=0,
                            label=f"{level:g} % interval")
        ax.plot(part["date"], part["actual"], color="black", lw=1, label="actual")
        ax.plot(part["date"], part["prediction"], color="tab:blue", lw=1,
                label=f"forecast {step} ahead")
        ax.set_title(title if name is None else f"{title}: {name}", fontsize=9)
        ax.legend(fontsize=7, loc="upper left")
    return _save(fig, path)
