"""Datasets of the sequence-to-sequence exercises; everything works offline."""

from .btc import load_btc_usd_eur
from .csv_series import CsvSeries, Gap, load_csv_series
from .exercises import load_exercise, make_sin_cos_exercise, make_two_frequencies
from .generators import (
    make_echo_sequences,
    make_noisy_sine,
    make_sin,
    make_sin_cos,
    make_x_sin,
)
from .load import make_load_series
from .panel import make_panel
from .synthetic_series import make_random_walk, make_seasonal_series

__all__ = [
    "load_exercise",
    "load_btc_usd_eur",
    "make_sin_cos_exercise",
    "make_two_frequencies",
    "make_noisy_sine",
    "make_sin",
    "make_sin_cos",
    "make_x_sin",
    "make_echo_sequences",
    "load_csv_series",
    "CsvSeries",
    "Gap",
    "make_random_walk",
    "make_seasonal_series",
    "make_load_series",
    "make_panel",
]
