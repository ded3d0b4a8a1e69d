"""KerasModelStep: a Keras 3 model as a scikit-learn estimator step.

>>> import numpy as np
>>> from seqpipe.models import seq2seq_gru
>>> from seqpipe.steps import KerasModelStep
>>> X = np.random.default_rng(0).normal(size=(64, 10, 2)).astype("float32")
>>> step = KerasModelStep(seq2seq_gru, hidden_dim=4, epochs=1, random_state=0).fit(X, X)
>>> step.predict(X).shape
(64, 10, 2)
>>> step.get_params()["hidden_dim"]
4
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.metrics import r2_score

from seqpipe._validation import (
    check_fits_float32,
    check_fitted,
    check_int_param,
    validate_X,
    validate_y,
)
from seqpipe.base import DivergedError
from seqpipe.scoring import flatten_2d

_MODEL_STATE = ("model_weights", "optimizer_variables")


class KerasModelStep(RegressorMixin, BaseEstimator):
    """Build, train and predict with a Keras model; every knob is a sklearn param.

    The model is built in ``fit`` by ``build_fn`` from the data's shapes: the
    builder receives whichever of ``input_dim``, ``output_dim``,
    ``window_size_past``, ``window_size_future``, ``input_shape`` and
    ``output_shape`` its signature names, plus ``**model_params``. Model params are
    ordinary parameters (``get_params``, ``set_params``, grid search on
    ``keras_model_step__hidden_dim``); a name the builder does not accept is an
    error raised before anything is built.

    ``fit`` trains from scratch with ``model.fit`` (the fast path); ``adapt`` builds
    a fresh model; ``partial_fit`` makes one pass over the data it is given (see
    ``batch_size``) and builds the model first if needed.

    Parameters
    ----------
    build_fn : callable
        Returns an (uncompiled) ``keras.Model``; see :func:`seqpipe.models.seq2seq_gru`.
    loss : str or keras loss, default="mse"
    optimizer : str, default="adam"
        Name of a Keras optimizer, created with ``learning_rate``.
    learning_rate : float, default=1e-3
    epochs : int, default=1
        Epochs of ``fit``.
    batch_size : int or None, default=None
        Samples per gradient step. ``None`` means Keras' default of 32 in ``fit``
        and all the data given (one step) in ``partial_fit``, as MiniBatch expects.
    shuffle : bool, default=True
        Shuffle the samples every epoch in ``fit``.
    random_state : int or None, default=None
        Seeds Keras, NumPy and Python's global generators before the model is
        built, so the same value gives the same weights and results on CPU.
    verbose : int, default=0
        Keras' verbosity in ``fit``.
    **model_params
        Passed to ``build_fn``.

    Attributes
    ----------
    model_ : keras.Model
        The trained model.
    n_features_in_ : int
        Number of input features (last axis).
    X_shape_, y_shape_ : tuple
        Shapes of one sample of X and of y seen during fit.
    history_ : dict
        Loss per epoch of the last ``fit``.

    Notes
    -----
    A non-finite loss stops training with a :class:`~seqpipe.base.DivergedError` (a
    ``FloatingPointError``) naming the epoch and batch; in ``fit`` the weights are
    restored to the end of the last finite epoch.
    Pickling stores the weights (and optimizer state) and rebuilds the model with
    ``build_fn`` when loaded, so ``build_fn`` must be importable (no lambdas).
    """

    def __init__(
        self,
        build_fn: Callable[..., Any],
        *,
        loss: Any = "mse",
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        epochs: int = 1,
        batch_size: int | None = None,
        shuffle: bool = True,
        random_state: int | None = None,
        verbose: int = 0,
        **model_params: Any,
    ) -> None:
        self.build_fn = build_fn
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose
        self._model_param_names = sorted(model_params)
        for name, value in model_params.items():
            setattr(self, name, value)

    # ------------------------------------------------------------------ params
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Parameters of the step, the model params passed to ``build_fn`` included."""
        params = super().get_params(deep=deep)
        params.update(self._model_params())
        return params

    def set_params(self, **params: Any) -> KerasModelStep:
        """Set parameters; model params (e.g. ``hidden_dim``) included."""
        for name in [n for n in params if n in self._model_param_names]:
            setattr(self, name, params.pop(name))
        return super().set_params(**params)

    def _model_params(self) -> dict[str, Any]:
        """The parameters routed to ``build_fn``."""
        return {name: getattr(self, name) for name in self._model_param_names}

    def _check_params(self) -> None:
        if not callable(self.build_fn):
            raise TypeError(f"The 'build_fn' parameter of KerasModelStep must be a callable "
                            f"returning a keras.Model. Got {self.build_fn!r} instead.")
        check_int_param(self, "epochs", self.epochs)
        if self.batch_size is not None:
            check_int_param(self, "batch_size", self.batch_size)
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise ValueError(f"The 'learning_rate' parameter of KerasModelStep must be a float "
                             f"in the range (0, inf). Got {self.learning_rate!r} instead.")
        accepted = _accepted_names(self.build_fn)
        if accepted is not None:
            unknown = sorted(set(self._model_param_names) - accepted)
            if unknown:
                raise ValueError(
                    f"build_fn {getattr(self.build_fn, '__name__', self.build_fn)!r} does not "
                    f"accept the model parameter(s) {unknown}; it accepts {sorted(accepted)}."
                )

    # ------------------------------------------------------------------ build
    def _shape_kwargs(self) -> dict[str, Any]:
        X_shape, y_shape = self.X_shape_, self.y_shape_
        return {
            "input_dim": X_shape[-1],
            "output_dim": y_shape[-1] if y_shape else 1,
            "window_size_past": X_shape[0] if len(X_shape) > 1 else None,
            "window_size_future": y_shape[0] if len(y_shape) > 1 else None,
            "input_shape": X_shape,
            "output_shape": y_shape,
        }

    def _build(self) -> keras.Model:
        if self.random_state is not None:
            keras.utils.set_random_seed(self.random_state)
        kwargs = self._shape_kwargs()
        accepted = _accepted_names(self.build_fn)
        if accepted is not None:
            kwargs = {k: v for k, v in kwargs.items() if k in accepted}
        model = self.build_fn(**kwargs, **self._model_params())
        if not isinstance(model, keras.Model):
            raise TypeError(f"build_fn must return a keras.Model, got {type(model).__name__}.")
        optimizer = type(keras.optimizers.get(self.optimizer))(learning_rate=self.learning_rate)
        model.compile(optimizer=optimizer, loss=self.loss)
        x_ndim, y_ndim = 1 + len(self.X_shape_), 1 + len(self.y_shape_)
        self._train_fn = _shape_generic(lambda x, y: model.train_step((x, y))["loss"],
                                        x_ndim, y_ndim, fallback=model.train_on_batch,
                                        model=model)
        self._predict_fn = _shape_generic(lambda x: model(x, training=False), x_ndim,
                                          fallback=model.predict_on_batch, model=None)
        return model

    def _validate_fit_data(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X = validate_X(self, X, reset=reset)
        y = validate_y(y, len(X))
        if reset:
            self.X_shape_, self.y_shape_ = X.shape[1:], y.shape[1:]
        elif y.shape[1:] != self.y_shape_:
            raise ValueError(f"y has shape {y.shape[1:]} per sample, but {type(self).__name__} "
                             f"was fitted with {self.y_shape_}.")
        return check_fits_float32(X, "X"), check_fits_float32(y, "y")

    # ------------------------------------------------------------------ train
    def fit(self, X: Any, y: Any) -> KerasModelStep:
        """Build the model from the data's shapes and train it for ``epochs`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...features)
        y : array-like of shape (n_samples, ...)

        Returns
        -------
        self : KerasModelStep
        """
        self._check_params()
        X, y = self._validate_fit_data(X, y, reset=True)
        self.model_ = self._build()
        guard = _NonFiniteGuard()
        history = self.model_.fit(
            X, y, epochs=self.epochs, batch_size=self.batch_size or 32,
            shuffle=self.shuffle, verbose=self.verbose, callbacks=[guard],
        )
        guard.raise_if_diverged(self.model_)
        self.history_ = {k: [float(v) for v in vs] for k, vs in history.history.items()}
        return self

    def adapt(self, X: Any, y: Any) -> KerasModelStep:
        """Build a fresh (untrained) model from the shapes of ``(X, y)``."""
        self._check_params()
        self._validate_fit_data(X, y, reset=True)
        self.model_ = self._build()
        return self

    def partial_fit(self, X: Any, y: Any) -> KerasModelStep:
        """One pass over ``(X, y)``: a single gradient step when ``batch_size`` is None
        (what MiniBatch relies on), else one step per ``batch_size`` samples.

        Builds the model on the first call (see ``adapt``).
        """
        if getattr(self, "model_", None) is None:
            self.adapt(X, y)
        X, y = self._validate_fit_data(X, y, reset=False)
        batch = self.batch_size or len(X)
        for index, start in enumerate(range(0, len(X), batch)):
            loss = float(self._train_batch(X[start:start + batch], y[start:start + batch]))
            if not math.isfinite(loss):
                raise DivergedError(loss, batch=index if batch < len(X) else None)
        return self

    def _train_batch(self, X: np.ndarray, y: np.ndarray) -> Any:
        """One gradient step; the loss (Keras' running mean since the model was built)."""
        return self._train_fn(X, y)

    def _predict_batch(self, X: np.ndarray) -> Any:
        return self._predict_fn(X)

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the model's weights (``keras.Model.get_weights``)."""
        check_fitted(self, "model_")
        return self.model_.get_weights()

    def set_weights(self, weights: list[np.ndarray]) -> None:
        """Set the model's weights (``keras.Model.set_weights``)."""
        check_fitted(self, "model_")
        self.model_.set_weights(weights)

    # ------------------------------------------------------------------ predict
    def predict(self, X: Any) -> np.ndarray:
        """Predict with the trained model; returns an array shaped like y's samples."""
        check_fitted(self, "model_")
        X = validate_X(self, X, reset=False)
        if X.shape[1:-1] != self.X_shape_[:-1] and not self._accepts_any_length():
            raise ValueError(f"X has samples of shape {X.shape[1:]}, but the model was built "
                             f"for samples of shape {self.X_shape_}.")
        X = check_fits_float32(X, "X")
        batch = max(self.batch_size or 0, 1024)
        outputs = [np.asarray(self._predict_batch(X[i:i + batch]))
                   for i in range(0, len(X), batch)]
        y = np.concatenate(outputs)
        return y.reshape((len(X), *self.y_shape_))

    def _accepts_any_length(self) -> bool:
        shape = self.model_.input_shape
        return isinstance(shape, tuple) and len(shape) == 3 and shape[1] is None

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of the predictions; 3-D targets are flattened per sample."""
        return float(r2_score(flatten_2d(y), flatten_2d(self.predict(X)),
                              sample_weight=sample_weight))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = True  # a few epochs by default
        return tags

    # ------------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_train_fn", None)
        state.pop("_predict_fn", None)
        model = state.pop("model_", None)
        if model is not None:
            state["model_weights"] = [np.asarray(w) for w in model.get_weights()]
            optimizer = model.optimizer
            state["optimizer_variables"] = (
                [np.asarray(v) for v in optimizer.variables] if optimizer.built else None
            )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        weights, optimizer_variables = (state.pop(key, None) for key in _MODEL_STATE)
        self.__dict__.update(state)
        if weights is None:
            return
        random_state, self.random_state = self.random_state, None  # no global reseeding
        try:
            self.model_ = self._build()
        finally:
            self.random_state = random_state
        self.model_.set_weights(weights)
        if optimizer_variables is not None:
            self.model_.optimizer.build(self.model_.trainable_variables)
            for variable, value in zip(self.model_.optimizer.variables, optimizer_variables):
                variable.assign(value)


def _shape_generic(function: Callable[..., Any], *ndims: int,
                   fallback: Callable[..., Any], model: keras.Model | None) -> Callable[..., Any]:
    """``function`` traced once by TensorFlow for inputs of any batch size (and length).

    Keras' ``train_on_batch``/``predict_on_batch`` retrace for every new batch shape
    (the last, smaller batch of an epoch costs a full retrace: seconds for an RNN);
    ``model.fit`` avoids it the same way. Other backends use ``fallback``.
    """
    if keras.backend.backend() != "tensorflow":
        return fallback
    import tensorflow as tf

    if model is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    signature = [tf.TensorSpec([None] * ndim, tf.float32) for ndim in ndims]
    return tf.function(function, input_signature=signature)


def _accepted_names(build_fn: Callable[..., Any]) -> set[str] | None:
    """Keyword names ``build_fn`` accepts, or None when it takes ``**kwargs``."""
    try:
        parameters = inspect.signature(build_fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind is not inspect.Parameter.VAR_POSITIONAL}


class _NonFiniteGuard(keras.callbacks.Callback):
    """Stop on a non-finite loss; ``raise_if_diverged`` restores the last finite weights."""

    def on_train_begin(self, logs=None):
        self.epoch, self.diverged_at, self.saved = 0, None, self.model.get_weights()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_at = (self.epoch, batch, float(loss))
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged_at is None:
            self.saved = self.model.get_weights()

    def raise_if_diverged(self, model: keras.Model) -> None:
        if self.diverged_at is None:
            return
        epoch, batch, loss = self.diverged_at
        model.set_weights(self.saved)
        raise DivergedError(loss, epoch=epoch, batch=batch,
                            restored="the end of the last finite epoch")
