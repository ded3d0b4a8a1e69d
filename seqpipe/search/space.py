"""Search spaces: ``{'step__param': distribution or list of values}``, checked up front.

A space names parameters exactly as ``estimator.set_params`` takes them (scikit-learn's
``step__param`` convention, as many levels deep as the estimator nests). Each value is
either a distribution (anything with an ``rvs`` method: seqpipe's ``Uniform``,
``LogUniform``, ``RandInt``, ``Choice``, or a ``scipy.stats`` one) or a non-empty list of
the values to try. :func:`check_space` refuses a misspelt or unknown parameter *before*
any trial runs, naming it, the valid prefixes and the closest valid names.

>>> from sklearn.linear_model import Ridge
>>> from seqpipe import Pipeline
>>> from seqpipe.search import LogUniform, check_space
>>> from seqpipe.steps import MeanStdNormalizer
>>> pipeline = Pipeline([MeanStdNormalizer(), Ridge()])
>>> check_space(pipeline, {"ridge__alpha": LogUniform(1e-3, 10), "ridge__fit_intercept":
...                        [True, False]})
{'ridge__alpha': LogUniform(low=0.001, high=10.0), 'ridge__fit_intercept': [True, False]}
>>> check_space(pipeline, {"ridge__alpah": [1.0]})
Traceback (most recent call last):
...
ValueError: Unknown parameter 'ridge__alpah' in the search space of Pipeline: 'ridge' (Ridge)
has no parameter 'alpah'. Did you mean 'ridge__alpha'? Valid parameters are: 'ridge__alpha', ...

Known limit: a parameter of a step that the space itself swaps in (``{'ridge':
[Lasso()], 'ridge__selection': [...]}``) is refused unless the current step has it too.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["check_space"]

Space = Mapping[str, Any]


def _describe(names: Sequence[str], limit: int = 20) -> str:
    shown = [f"'{name}'" for name in names[:limit]]
    if len(names) > limit:
        shown.append(f"... ({len(names) - limit} more)")
    return ", ".join(shown)


def _unknown_parameter_message(key: str, params: Mapping[str, Any], owner: str) -> str:
    parts = key.split("__")
    # the deepest prefix of the key that names an existing parameter (a nested estimator)
    depth = 0
    while depth < len(parts) - 1 and "__".join(parts[:depth + 1]) in params:
        depth += 1
    prefix = "__".join(parts[:depth])
    scope = [name for name in params if not prefix or name.startswith(prefix + "__")]
    relative = [name[len(prefix) + 2:] if prefix else name for name in scope]
    message = f"Unknown parameter {key!r} in the search space of {owner}"
    if prefix:
        nested = type(params[prefix]).__name__
        message += f": {prefix!r} ({nested}) has no parameter {parts[depth]!r}"
    rest = "__".join(parts[depth:])
    # prefer names as deep as the one given (a misspelt step keeps its parameter)
    alike = [name for name in relative if name.count("__") == rest.count("__")]
    matches = (difflib.get_close_matches(rest, alike, n=3, cutoff=0.6)
               or difflib.get_close_matches(rest, relative, n=3, cutoff=0.6))
    close = [f"{prefix}__{name}" if prefix else name for name in matches]
    if close:
        message += ". Did you mean " + " or ".join(f"'{name}'" for name in close) + "?"
    else:
        message += "."
    groups = sorted({f"{prefix + '__' if prefix else ''}{name.split('__')[0]}__"
                     for name in relative if "__" in name})
    leaves = sorted(name for name, rel in zip(scope, relative) if "__" not in rel)
    if groups:
        message += f" Valid parameters start with: {_describe(groups)}, or are one of: "
    else:
        message += " Valid parameters are: "
    return message + _describe(leaves) + "."


def _is_distribution(values: Any) -> bool:
    """scikit-learn's test (``ParameterSampler``): anything with an ``rvs`` method."""
    try:
        return callable(values.rvs)
    except AttributeError:
        return False


def _check_values(key: str, values: Any, owner: str) -> None:
    if _is_distribution(values):
        return
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise TypeError(
            f"The values of parameter {key!r} in the search space of {owner} must be a "
            f"distribution (with an 'rvs' method) or a list of values. Got {values!r} of "
            f"type {type(values).__name__} instead; write [{values!r}] to fix the value."
        )
    if len(values) == 0:
        raise ValueError(f"The list of values of parameter {key!r} in the search space of "
                         f"{owner} is empty; give at least one value.")


def check_space(estimator: Any, space: Space | Sequence[Space]) -> Any:
    """Check a search space against an estimator before any trial runs; return it.

    Parameters
    ----------
    estimator : scikit-learn estimator
        Any object with ``get_params(deep=True)``: a seqpipe Pipeline, step or
        meta-step, or a scikit-learn estimator.
    space : dict or list of dicts
        ``{'step__param': distribution_or_list}``; a list of such dicts (as
        scikit-learn's ``ParameterGrid`` and ``ParameterSampler`` accept) is checked
        dict by dict.

    Returns
    -------
    space : dict or list of dicts
        A shallow copy of ``space`` (a dict, or a list of dicts).

    Raises
    ------
    ValueError
        A parameter the estimator does not have (the message names it, the valid
        prefixes and the closest valid names), or an empty list of values.
    TypeError
        A space that is not a dict, a name that is not a string, or values that are
        neither a distribution nor a list.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from seqpipe.search import LogUniform, check_space
    >>> sorted(check_space(Ridge(), {"alpha": LogUniform(1e-3, 10), "fit_intercept": [True]}))
    ['alpha', 'fit_intercept']
    >>> check_space(Ridge(), {"alpah": LogUniform(1e-3, 10)})
    Traceback (most recent call last):
    ValueError: ...alpah...
    """
    owner = type(estimator).__name__
    if isinstance(space, Sequence) and not isinstance(space, (str, bytes)):
        if len(space) == 0:
            raise ValueError(f"The search space of {owner} is an empty list of dicts.")
        return [check_space(estimator, part) for part in space]
    if not isinstance(space, Mapping):
        raise TypeError(f"The search space of {owner} must be a dict "
                        f"{{'step__param': distribution_or_list}} or a list of them. "
                        f"Got {space!r} of type {type(space).__name__} instead.")
    params = estimator.get_params(deep=True)
    for key, values in space.items():
        if not isinstance(key, str):
            raise TypeError(f"The parameter names in the search space of {owner} must be "
                            f"strings. Got {key!r} of type {type(key).__name__} instead.")
        if key not in params:
            raise ValueError(_unknown_parameter_message(key, params, owner))
        _check_values(key, values, owner)
    return dict(space)
