"""Plots of forecasts: past window, true future and predicted future (PNG, Agg backend)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


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
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y_true, y_pred = (np.asarray(a) for a in (X, y_true, y_pred))
    n = min(max_plotted, len(X))
    past, future = X.shape[1], y_true.shape[1]
    t_past, t_future = np.arange(past), np.arange(past, past + future)
    fig, axes = plt.subplots(n, 1, figsize=(8, 2.2 * n), squeeze=False)
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
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
