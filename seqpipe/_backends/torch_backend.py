"""PyTorch: Keras' batch methods (no compiled fast path yet), torch's global generator
and thread pools. See :mod:`seqpipe._backends` for the interface."""

from __future__ import annotations

from collections.abc import Callable

import torch

from seqpipe._backends.generic import compile_steps, reader

__all__ = ["compile_steps", "limit_threads", "reader", "seed_framework"]


def seed_framework(seed: int) -> Callable[[], None]:
    """Seed torch's global generator (Keras seeds it on this backend); the returned
    function puts back its previous state."""
    saved = torch.random.get_rng_state()
    torch.manual_seed(seed)
    return lambda: torch.random.set_rng_state(saved)


def limit_threads(threads: int) -> None:
    """``torch.set_num_threads`` (intra-op) and, before any parallel work started,
    ``torch.set_num_interop_threads``."""
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # parallel work already ran: torch fixes its inter-op pool then
        pass
