"""KerasModelStep: a Keras 3 model as a scikit-learn estimator step.

>>> import numpy as np
>>> from seqpipe.models import seq2seq_gru
>>> from seqpipe.steps import KerasModelStep
>>> X = np.random.default_rng(0).normal(size=(64, 10, 2)).astype("float32")
>>> step = KerasModelStep(seq2seq_gru, hidden_dim=4, epochs=1, random_state=0).fit(X, X)
>>> step.predict(X).shape
(64, 10, 2)
>>> step.get_params()["hidden_dim"], step.n_timesteps_in_
(4, 10)

How a model is built (routing the params to ``build_fn``, the optimizer, compiling,
tracing) lives in :mod:`seqpipe.steps._keras_build`; snapshots of the training state
(checkpoints, pickling, divergence) in :mod:`seqpipe.steps._keras_state`; seeding
without global side effects in :mod:`seqpipe.steps._keras_seed`.
"""

from __future__ import annotations

import contextlib
import math
import numbers
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
    validate_sample_weight,
    validate_X,
    validate_y,
)
from seqpipe.base import DivergedError
from seqpipe.scoring import flatten_2d
from seqpipe.steps._keras_build import (
    builder_kwargs,
    check_learning_rate,
    check_model_params,
    check_optimizer,
    compile_model,
    make_optimizer,
    set_learning_rate,
    trace,
)
from seqpipe.steps._keras_seed import seeded
from seqpipe.steps._keras_state import NonFiniteGuard, TrainingState, restore, snapshot

_MODEL_STATE = "_training_state"  # the key under which a pickle holds the model's state
# what _build makes besides model_: rebuilt, never pickled
_BUILT = ("_train_fn", "_predict_fn", "_learning_rate_in_use", "_own_learning_rate")
_MAX_SEED = 2**32 - 1  # NumPy's limit, which keras.utils.set_random_seed seeds too


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
    ``batch_size``) and builds the model first if needed. ``fit`` and ``partial_fit``
    take a ``sample_weight`` as ``model.fit`` does; with scikit-learn's metadata
    routing, request it with ``set_fit_request(sample_weight=True)``, which also
    covers the ``partial_fit`` calls of a MiniBatch or EpochRepeater around it.

    Parameters
    ----------
    build_fn : callable
        Returns an (uncompiled) ``keras.Model``; see :func:`seqpipe.models.seq2seq_gru`.
    loss : str or keras loss, default="mse"
    optimizer : str, keras.optimizers.Optimizer subclass or instance, default="adam"
        The optimizer: a Keras name (``"adam"``, ``"sgd"``), a class
        (``keras.optimizers.SGD``) or an instance with its own settings
        (``keras.optimizers.Adam(clipnorm=1.0, beta_1=0.8)``). Every model gets a fresh
        optimizer made from the instance's config: the instance itself is never
        trained, nor shared between clones. Takes effect at the next ``fit``/``adapt``.
    learning_rate : float or None, default=None
        ``None`` keeps the optimizer's own learning rate: Keras' default for an
        optimizer given by name or class (1e-3 for Adam, 1e-2 for SGD), the instance's
        for an instance. A float overrides it (and replaces an instance's learning
        rate schedule). Changed with ``set_params`` between ``partial_fit`` calls, it
        takes effect at the next update, keeping the optimizer's state.
    epochs : int, default=1
        Epochs of ``fit``.
    batch_size : int or None, default=None
        Samples per gradient step. ``None`` means Keras' default of 32 in ``fit``
        and all the data given (one step) in ``partial_fit``, as MiniBatch expects.
    shuffle : bool, default=True
        Shuffle the samples every epoch in ``fit``.
    accept_any_length : bool, default=False
        Whether the model reads windows of any length (e.g. a recurrent model whose
        input shape is ``(None, n_features)``). By default ``predict``,
        ``partial_fit`` and ``score`` refuse windows of another length than those
        seen in ``fit`` (``n_timesteps_in_``); with True they accept any, and building
        a model whose input has a fixed length is an error.
    random_state : int or None, default=None
        Seeds Keras (weights, dropout, ``fit``'s shuffling) while the model is built
        and trained by ``fit`` (built only, by ``adapt``), so the same value gives the
        same weights and results on CPU. The global generators it seeds (Python's
        ``random``, NumPy's, TensorFlow's and Keras' global seeds) are restored
        afterwards: a user's own draws do not change. ``None`` leaves seeding to them.
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
    n_timesteps_in_ : int or None
        Length of the windows (time steps, axis 1) of the 3-D X seen in fit; None
        for 2-D X.
    X_shape_, y_shape_ : tuple
        Shapes of one sample of X and of y seen during fit.
    history_ : dict
        Loss per epoch of the last ``fit``.

    Notes
    -----
    A non-finite loss stops training with a :class:`~seqpipe.base.DivergedError` (a
    ``FloatingPointError``) naming the epoch and batch; in ``fit`` the training state
    (weights and optimizer) is restored to the end of the last finite epoch.
    Pickling stores the training state (see :meth:`get_training_state`) and rebuilds
    the model with ``build_fn`` when loaded, so ``build_fn`` must be importable (no
    lambdas).

    Examples
    --------
    >>> import numpy as np
    >>> from seqpipe.models import seq2seq_gru
    >>> from seqpipe.steps import KerasModelStep
    >>> X = np.random.default_rng(0).normal(size=(32, 5, 2)).astype("float32")
    >>> step = KerasModelStep(seq2seq_gru, hidden_dim=4, epochs=1, random_state=0).fit(X, X)
    >>> step.predict(X).shape, step.get_params()["hidden_dim"]
    ((32, 5, 2), 4)
    """

    def __init__(
        self,
        build_fn: Callable[..., Any],
        *,
        loss: Any = "mse",
        optimizer: str | type | keras.optimizers.Optimizer = "adam",
        learning_rate: float | None = None,
        epochs: int = 1,
        batch_size: int | None = None,
        shuffle: bool = True,
        accept_any_length: bool = False,
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
        self.accept_any_length = accept_any_length
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
        check_model_params(self.build_fn, self._model_param_names)
        check_int_param(self, "epochs", self.epochs)
        if self.batch_size is not None:
            check_int_param(self, "batch_size", self.batch_size)
        check_optimizer(self.optimizer)
        check_learning_rate(self.learning_rate)
        seed = self.random_state
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                                 or not 0 <= seed <= _MAX_SEED):
            raise ValueError(f"The 'random_state' parameter of KerasModelStep must be an int "
                             f"in the range [0, {_MAX_SEED}] or None. Got {seed!r} instead.")

    # ------------------------------------------------------------------ build
    def _seeded(self) -> contextlib.AbstractContextManager[None]:
        """Seed Keras with ``random_state`` for the block (nothing if it is None)."""
        if self.random_state is None:
            return contextlib.nullcontext()
        return seeded(self.random_state)

    def _build(self) -> keras.Model:
        """Build, compile and trace a fresh model for the recorded shapes."""
        kwargs = builder_kwargs(self.build_fn, self.X_shape_, self.y_shape_)
        model = self.build_fn(**kwargs, **self._model_params())
        if self.accept_any_length:
            self._check_reads_any_length(model)
        optimizer, self._own_learning_rate = make_optimizer(self.optimizer, self.learning_rate)
        compile_model(model, optimizer, self.loss)
        self._learning_rate_in_use = self.learning_rate
        self._train_fn, self._predict_fn = trace(model, 1 + len(self.X_shape_),
                                                 1 + len(self.y_shape_))
        return model

    def _check_reads_any_length(self, model: keras.Model) -> None:
        shape = getattr(model, "input_shape", None)
        if isinstance(shape, tuple) and len(shape) == 3 and shape[1] is not None:
            raise ValueError(
                f"accept_any_length=True, but the model of build_fn reads windows of "
                f"exactly {shape[1]} time steps (input shape {shape}). Build it with "
                f"keras.Input(shape=(None, n_features)), or leave accept_any_length=False."
            )

    def _validate_fit_data(self, X: Any, y: Any, *, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X = validate_X(self, X, reset=reset)
        y = validate_y(y, len(X))
        if reset:
            self.X_shape_, self.y_shape_ = X.shape[1:], y.shape[1:]
            self.n_timesteps_in_ = X.shape[1] if X.ndim == 3 else None
        else:
            self._check_timesteps(X)
            if y.shape[1:] != self.y_shape_:
                raise ValueError(f"y has shape {y.shape[1:]} per sample, but "
                                 f"{type(self).__name__} was fitted with {self.y_shape_}.")
        return check_fits_float32(X, "X"), check_fits_float32(y, "y")

    def _check_timesteps(self, X: np.ndarray) -> None:
        """Refuse X whose samples differ from fit's in anything but the features (checked
        by validate_X) and, with ``accept_any_length``, the window length."""
        if X.shape[1:-1] == self.X_shape_[:-1]:
            return
        name = type(self).__name__
        if X.ndim != 1 + len(self.X_shape_):
            raise ValueError(f"X has samples of shape {X.shape[1:]}, but {name} was fitted "
                             f"on samples of shape {self.X_shape_}.")
        if not self.accept_any_length:
            raise ValueError(
                f"X has windows of {X.shape[1]} time steps, but {name} was fitted on "
                f"windows of {self.n_timesteps_in_} time steps. Pass windows of "
                f"{self.n_timesteps_in_} time steps, or set accept_any_length=True if the "
                f"model reads windows of any length."
            )

    # ------------------------------------------------------------------ train
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> KerasModelStep:
        """Build the model from the data's shapes and train it for ``epochs`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...features)
        y : array-like of shape (n_samples, ...)
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample's loss, as in ``keras.Model.fit``; non-negative.

        Returns
        -------
        self : KerasModelStep

        Examples
        --------
        >>> import numpy as np
        >>> from seqpipe.models import lstm_regressor
        >>> X = np.random.default_rng(0).normal(size=(40, 5, 1)).astype("float32")
        >>> weights = np.r_[np.zeros(20), np.ones(20)]   # learn from the last 20 only
        >>> step = KerasModelStep(lstm_regressor, random_state=0)
        >>> step.fit(X, X[:, -1], sample_weight=weights).predict(X).shape
        (40, 1)
        """
        self._check_params()
        X, y = self._validate_fit_data(X, y, reset=True)
        sample_weight = validate_sample_weight(sample_weight, len(X), type(self).__name__)
        if sample_weight is not None and not sample_weight.any():
            raise ValueError("The sample_weight of KerasModelStep must hold at least one "
                             "non-zero weight: with all weights zero nothing is learned.")
        sample_weight = _per_loss_value(sample_weight, y.ndim)
        guard = NonFiniteGuard()
        with self._seeded():
            self.model_ = self._build()
            history = self.model_.fit(
                X, y, sample_weight=sample_weight, epochs=self.epochs,
                batch_size=self.batch_size or 32, shuffle=self.shuffle, verbose=self.verbose,
                callbacks=[guard],
            )
        guard.raise_if_diverged(self.model_)
        self.history_ = {k: [float(v) for v in vs] for k, vs in history.history.items()}
        return self

    def adapt(self, X: Any, y: Any, sample_weight: Any = None) -> KerasModelStep:
        """Build a fresh (untrained) model from the shapes of ``(X, y)``; a
        ``sample_weight`` is checked, for the passes to come."""
        self._check_params()
        X, _ = self._validate_fit_data(X, y, reset=True)
        validate_sample_weight(sample_weight, len(X), type(self).__name__)
        with self._seeded():
            self.model_ = self._build()
        return self

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> KerasModelStep:
        """One pass over ``(X, y)``: a single gradient step when ``batch_size`` is None
        (what MiniBatch relies on), else one step per ``batch_size`` samples.

        Builds the model on the first call (see ``adapt``). A ``learning_rate`` set
        since the last call is assigned to the optimizer first. ``sample_weight``
        weighs each sample's loss, as in ``fit``.
        """
        if getattr(self, "model_", None) is None:
            self.adapt(X, y)
        X, y = self._validate_fit_data(X, y, reset=False)
        weights = _per_loss_value(
            validate_sample_weight(sample_weight, len(X), type(self).__name__), y.ndim)
        if self.learning_rate != self._learning_rate_in_use:  # set_params since the last update
            self._apply_learning_rate()
        batch = self.batch_size or len(X)
        for index, start in enumerate(range(0, len(X), batch)):
            rows = slice(start, start + batch)
            loss = float(self._train_fn(X[rows], y[rows],
                                        None if weights is None else weights[rows]))
            if not math.isfinite(loss):
                raise DivergedError(loss, batch=index if batch < len(X) else None)
        return self

    def _apply_learning_rate(self) -> None:
        """Assign ``learning_rate`` (or, if None, the optimizer's own) to the built optimizer."""
        check_learning_rate(self.learning_rate)
        value = self.learning_rate
        value = self._own_learning_rate if value is None else float(value)
        set_learning_rate(self.model_.optimizer, value)
        self._learning_rate_in_use = self.learning_rate

    # ------------------------------------------------------------------ training state
    def get_training_state(self) -> TrainingState | None:
        """A snapshot of everything training changes, or None if no model is built yet.

        Copies of the model's weights, the optimizer's variables (e.g. Adam's
        iteration count and moments; not its learning rate, a parameter), the model's
        random-seed states and Keras' running loss. Opaque: pass it to
        :meth:`set_training_state` to go back to this point of training.

        Returns
        -------
        state : object or None
        """
        model = getattr(self, "model_", None)
        return None if model is None else snapshot(model)

    def set_training_state(self, state: TrainingState | None) -> None:
        """Put back a snapshot taken by :meth:`get_training_state` of this step.

        The values are assigned in place, so training resumes exactly where the
        snapshot was taken (bitwise, on CPU). ``None`` (taken before the model was
        built) drops the model: the next ``partial_fit`` builds a fresh one. A step
        whose model was dropped is rebuilt from the shapes it recorded first.

        Parameters
        ----------
        state : object or None
            A value returned by :meth:`get_training_state`.
        """
        if state is None:
            for name in ("model_", *_BUILT):
                self.__dict__.pop(name, None)
            return
        if getattr(self, "model_", None) is None:
            check_fitted(self, "X_shape_")
            with seeded(0):  # the weights are overwritten: only the user's generators matter
                self.model_ = self._build()
        restore(self.model_, state)

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
        self._check_timesteps(X)
        X = check_fits_float32(X, "X")
        batch = max(self.batch_size or 0, 1024)
        outputs = [np.asarray(self._predict_fn(X[i:i + batch])) for i in range(0, len(X), batch)]
        y = np.concatenate(outputs)
        return y.reshape((len(X), *self.y_shape_))

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
        for name in _BUILT:
            state.pop(name, None)
        model = state.pop("model_", None)
        if model is not None:
            state[_MODEL_STATE] = snapshot(model)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        training_state = state.pop(_MODEL_STATE, None)
        self.__dict__.update(state)
        if training_state is not None:  # rebuilt without touching the global generators
            self.set_training_state(training_state)


def _per_loss_value(weights: np.ndarray | None, y_ndim: int) -> np.ndarray | None:
    """Sample weights shaped to broadcast against Keras' losses: for y of shape
    ``(n, t, d)`` the loss has a value per sample and time step, ``(n, t)``, which
    ``(n,)`` weights do not broadcast against (``model.fit`` itself refuses them);
    ``(n, 1)`` do: each sample's weight applies to all its time steps."""
    if weights is None or y_ndim <= 2:
        return weights
    return weights.reshape((len(weights),) + (1,) * (y_ndim - 2))
