"""Datasets of the sequence-to-sequence exercises; everything works offline."""

from .btc import load_btc_usd_eur
from .exercises import load_exercise, make_sin_cos_exercise, make_two_frequencies

__all__ = [
    "load_exercise",
    "load_btc_usd_eur",
    "make_sin_cos_exercise",
    "make_two_frequencies",
]
