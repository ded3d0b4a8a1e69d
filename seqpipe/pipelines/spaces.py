"""Default search spaces for the pipelines the factories build.

:func:`default_space` looks at a pipeline's parameters (``get_params()``) and gives a
distribution to each tunable one it knows -- the Keras model's width, learning rate,
L2 weight, dropout and depth, and the batch size -- keyed with the pipeline's real
parameter names (``step__step__...__kerasmodelstep__hidden_dim``), so that the space
follows the composition whatever it is (a Pipeline, seed 003's EpochRepeater, a
OneHotClassifier around the model) and is checked against it by
:func:`seqpipe.search.check_space`.

>>> from sklearn.pipeline import Pipeline as SkPipeline
>>> from sklearn.linear_model import Ridge
>>> from seqpipe.pipelines.spaces import default_space
>>> default_space(SkPipeline([("ridge", Ridge())]))
Traceback (most recent call last):
...
ValueError: default_space knows none of the parameters of Pipeline ...

With a factory's pipeline (needs Keras)::

    >>> from seqpipe.pipelines import sin_pipeline                 # doctest: +SKIP
    >>> sorted(default_space(sin_pipeline()))                       # doctest: +SKIP
    ['kerasmodelstep__batch_size', 'kerasmodelstep__dropout',
     'kerasmodelstep__learning_rate', 'kerasmodelstep__units']
"""

from __future__ import annotations

from typing import Any

from seqpipe.search import Choice, LogRandInt, LogUniform, Uniform, check_space

__all__ = ["DEFAULT_DISTRIBUTIONS", "default_space"]

#: The distribution of each parameter :func:`default_space` knows, by the last part of
#: its name. ``batch_size`` is that of the MiniBatch when there is one (the model's
#: own is then None and unused), else the model's.
DEFAULT_DISTRIBUTIONS: dict[str, Any] = {
    "hidden_dim": LogRandInt(8, 96),           # seq2seq GRU width (seed 003)
    "units": LogRandInt(8, 128),               # LSTM width (seeds 000, 001, 004)
    "learning_rate": LogUniform(1e-4, 3e-2),
    "lambda_loss_amount": LogUniform(1e-7, 1e-3),
    "dropout": Uniform(0.0, 0.3),
    "batch_size": Choice([16, 32, 64, 128]),
}


def _keys(params: dict[str, Any], suffix: str) -> list[str]:
    """The names of the set parameters (not None) ending in ``suffix``; a learning rate
    of None counts as set (the optimizer's own rate, e.g. seed 000's decaying one)."""
    return [key for key, value in params.items()
            if (key == suffix or key.endswith(f"__{suffix}"))
            and (value is not None or suffix == "learning_rate")
            and not hasattr(value, "get_params")]


def default_space(pipeline: Any) -> dict[str, Any]:
    """The default search space of ``pipeline``, keyed with its parameter names.

    Each parameter of the pipeline whose name ends in a key of
    :data:`DEFAULT_DISTRIBUTIONS` (and whose value is set) gets that distribution; the
    batch size is the MiniBatch's when there is one. The space is checked by
    :func:`seqpipe.search.check_space` before it is returned.

    Parameters
    ----------
    pipeline : estimator
        An unfitted pipeline, e.g. from :func:`seqpipe.pipelines.exercise_pipeline`,
        :func:`~seqpipe.pipelines.sin_pipeline` or
        :func:`~seqpipe.pipelines.echo_pipeline`.

    Returns
    -------
    dict
        ``{parameter name: distribution}``, ready for ``RandomSearch``/``TPESearch``.

    Raises
    ------
    ValueError
        The pipeline has none of the parameters above.

    Examples
    --------
    >>> from seqpipe.pipelines import default_space, sin_pipeline
    >>> space = default_space(sin_pipeline())
    >>> sorted(space)
    ['kerasmodelstep__batch_size', 'kerasmodelstep__dropout', 'kerasmodelstep__learning_rate',
     'kerasmodelstep__units']
    """
    params = pipeline.get_params(deep=True)
    space: dict[str, Any] = {}
    for suffix, distribution in DEFAULT_DISTRIBUTIONS.items():
        keys = _keys(params, suffix)
        if suffix == "batch_size":
            keys = [key for key in keys if key.endswith("minibatch__batch_size")] or [
                key for key in keys if "minibatch__" not in key]
        space.update({key: distribution for key in keys})
    if not space:
        raise ValueError(f"default_space knows none of the parameters of "
                         f"{type(pipeline).__name__} (it tunes those ending in "
                         f"{', '.join(DEFAULT_DISTRIBUTIONS)}): give the search a space "
                         f"of your own.")
    return check_space(pipeline, space)
