"""A training pass that diverged: the error, and the checkpoint of training states that
undoes the pass."""

from __future__ import annotations

from typing import Any

from seqpipe.base._nesting import iter_steps


class Checkpoint:
    """The training state of every step inside a step, to put back later.

    Holders are the steps with ``get_training_state``/``set_training_state`` (a
    Keras step: weights and optimizer state), found once; :meth:`save` snapshots
    them, :meth:`restore` puts a snapshot back.

    Parameters
    ----------
    step : step
        Searched with :func:`iter_steps`, itself included.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> Checkpoint(Ridge()).holders
    []
    """

    def __init__(self, step: Any) -> None:
        self.holders = [s for s in iter_steps(step) if hasattr(s, "get_training_state")]

    def save(self) -> list[tuple[Any, Any]]:
        """A snapshot of every holder's training state (holders with none are left out)."""
        states = ((holder, holder.get_training_state()) for holder in self.holders)
        return [(holder, state) for holder, state in states if state is not None]

    @staticmethod
    def restore(snapshot: list[tuple[Any, Any]]) -> None:
        """Put back the training states of a :meth:`save` snapshot."""
        for holder, state in snapshot:
            holder.set_training_state(state)


class DivergedError(FloatingPointError):
    """Training produced a non-finite loss.

    Each level that knows more fills it in: the Keras step sets ``loss``, the batch
    loop (:func:`each_batch`) the ``batch``, EpochRepeater the ``epoch`` and whether
    weights were restored.

    Examples
    --------
    >>> from seqpipe.base import DivergedError
    >>> error = DivergedError("the loss is nan")
    >>> isinstance(error, FloatingPointError)     # what a NaN loss raises while training
    True
    """

    def __init__(self, loss: float, *, batch: int | None = None, epoch: int | None = None,
                 restored: str | None = None) -> None:
        super().__init__(loss)
        self.loss, self.batch, self.epoch, self.restored = loss, batch, epoch, restored

    def __str__(self) -> str:
        where = ", ".join(f"{name} {value}" for name, value in
                          (("epoch", self.epoch), ("batch", self.batch)) if value is not None)
        restored = f" Weights were restored to {self.restored}." if self.restored else ""
        return (f"Training diverged: the loss became {self.loss}"
                f"{' at ' + where if where else ''}.{restored} Lower the learning_rate or "
                f"check the data for extreme values.")
