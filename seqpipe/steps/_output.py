"""Table output of the data steps: ``set_output`` and ``get_feature_names_out``.

The data steps opt out of scikit-learn's ``set_output`` wrapper (see
:mod:`seqpipe.base`); :class:`TableOutputMixin` gives those whose outputs are 2-D tables
(one column per input feature) the same API, honoured on every path (``transform``,
``fit_resample``, ``resample``), so that a step after them sees the same feature names
when it is fitted and when it predicts. 3-D windows have no table form: asking a step
for a DataFrame of windows is an error saying so; under the global
``sklearn.set_config(transform_output="pandas")`` windows stay arrays.

>>> import numpy as np
>>> from seqpipe.steps import MeanStdNormalizer
>>> norm = MeanStdNormalizer().set_output(transform="pandas")
>>> norm.fit_transform(np.arange(6.0).reshape(3, 2)).columns.tolist()
['x0', 'x1']
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import get_config
from sklearn.utils._set_output import ADAPTERS_MANAGER
from sklearn.utils.validation import _check_feature_names_in

from seqpipe._validation import check_fitted

OUTPUTS = ("default", "pandas", "polars")


def check_output(owner: Any, transform: Any) -> None:
    """Refuse a ``set_output(transform=...)`` value that is not a known container."""
    if not (isinstance(transform, str) and transform in OUTPUTS):
        raise ValueError(
            f"The 'transform' parameter of {type(owner).__name__}.set_output must be a str "
            f"among {set(OUTPUTS)} or None. Got {transform!r} instead."
        )


class TableOutputMixin:
    """``set_output(transform=...)`` and ``get_feature_names_out`` for a step whose 2-D
    output has one column per input feature, in order."""

    def set_output(self, *, transform: str | None = None) -> Any:
        """Set the container of this step's output X, as scikit-learn's transformers do.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            ``"pandas"`` (or ``"polars"``): 2-D outputs become DataFrames whose columns
            are :meth:`get_feature_names_out` (and whose index is the input's, for
            pandas input), on the fit, evaluation and predict paths alike; a 3-D X is
            then refused, windows having no table form. ``"default"``: arrays.
            ``None``: unchanged.

        Returns
        -------
        self

        Examples
        --------
        >>> import pandas as pd
        >>> from seqpipe.steps import ToNumpy
        >>> df = pd.DataFrame({"a": [1, 2], "b": [3, 4]}, index=["r1", "r2"])
        >>> ToNumpy().set_output(transform="pandas").fit_transform(df)
              a    b
        r1  1.0  3.0
        r2  2.0  4.0
        """
        if transform is None:
            return self
        check_output(self, transform)
        self._sklearn_output_config = {**getattr(self, "_sklearn_output_config", {}),
                                       "transform": transform}  # scikit-learn's own name
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns: the input's (``feature_names_in_``, else
        ``x0``, ``x1``, ...), since each output feature is an input feature.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; must match ``feature_names_in_`` when it is defined.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_fitted(self, "n_features_in_")
        return _check_feature_names_in(self, input_features)

    def _output(self, Xt: np.ndarray, X: Any) -> Any:
        """``Xt`` in the container asked for; ``X`` is this step's input (its index)."""
        own = self.__dict__.get("_sklearn_output_config", {}).get("transform")
        container = own if own is not None else get_config()["transform_output"]
        if container == "default":
            return Xt
        if np.ndim(Xt) != 2:
            if own is None:  # the global setting: windows stay arrays
                return Xt
            raise ValueError(
                f"{type(self).__name__}.set_output(transform={own!r}) makes 2-D tables, but "
                f"its output has shape {np.shape(Xt)}: 3-D windows (n_samples, n_timesteps, "
                f"n_features) have no table form. Use set_output(transform='default') for "
                f"windows."
            )
        return ADAPTERS_MANAGER.adapters[container].create_container(
            Xt, X, columns=self.get_feature_names_out)
