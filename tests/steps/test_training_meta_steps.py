"""MiniBatch, EpochRepeater, ValidationSplit, MetricsWrapper, PlotPredictions (no Keras)."""

import pickle
import re

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.model_selection import GridSearchCV, cross_val_score

from seqpipe import Pipeline
from seqpipe.base import DivergedError
from seqpipe.pipelines import seed003_training
from seqpipe.plotting import plot_history
from seqpipe.steps import (
    DataShuffler,
    EpochRepeater,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    PlotPredictions,
    TrainOnly,
    ValidationSplit,
)


class Recorder(RegressorMixin, BaseEstimator):
    """Records the row ids (feature 0) of every training call; predicts ``weight * id``.

    ``weights`` follow ``schedule(call_index)``, so tests control how predictions evolve;
    ``fail_at`` makes the given partial_fit call diverge or be interrupted.
    """

    def __init__(self, schedule=None, fail_at=None, failure="nan"):
        self.schedule = schedule
        self.fail_at = fail_at
        self.failure = failure

    def adapt(self, X, y):
        self.model_, self.adapted_rows_, self.batches_, self.weight_ = "built", len(X), [], 0.0
        return self

    def partial_fit(self, X, y):
        if not hasattr(self, "model_"):
            self.adapt(X, y)
        if self.fail_at == len(self.batches_):
            self.weight_ = float("nan")
            if self.failure == "interrupt":
                raise KeyboardInterrupt
            raise DivergedError(float("nan"))
        self.batches_.append(np.asarray(X)[:, 0].astype(int).tolist())
        self.weight_ = self.schedule(len(self.batches_)) if self.schedule else 1.0
        return self

    def fit(self, X, y):
        return self.adapt(X, y).partial_fit(X, y)

    def predict(self, X):
        return self.weight_ * np.asarray(X)[:, 0]

    def get_weights(self):
        return [np.array(self.weight_)]

    def set_weights(self, weights):
        self.weight_ = float(weights[0])

    def seen_rows(self):
        return sorted(row for batch in self.batches_ for row in batch)


def data(n=250):
    X = np.column_stack([np.arange(n, dtype=float), np.linspace(0, 1, n)])
    return X, X[:, 0].copy()


# --- MiniBatch -------------------------------------------------------------------------------

@pytest.mark.parametrize("keep_last, sizes", [(True, [100, 100, 50]), (False, [100, 100])])
def test_minibatch_batches_keep_the_last_one(keep_last, sizes):
    X, y = data(250)
    step = MiniBatch(Recorder(), batch_size=100, keep_last=keep_last).fit(X, y)
    assert [len(b) for b in step.step_.batches_] == sizes
    assert step.n_batches_ == len(sizes)
    assert step.step_.seen_rows() == list(range(sum(sizes)))


def test_minibatch_adapts_the_pipeline_on_all_the_data_once():
    X, y = data(250)
    step = MiniBatch(Pipeline([MeanStdNormalizer(normalize_y=False), Recorder()]),
                     batch_size=100).fit(X, y)
    np.testing.assert_allclose(step.step_[0].mean_, X.mean(axis=0))  # not the first batch's
    assert step.step_[-1].adapted_rows_ == 250


def test_minibatch_predicts_batch_by_batch_like_unbatched():
    X, y = data(250)
    step = MiniBatch(SGDRegressor(random_state=0), batch_size=30, predict_batch_size=7)
    step.fit(X, y)
    np.testing.assert_allclose(step.predict(X), step.step_.predict(X), rtol=1e-12)
    assert isinstance(MiniBatch([Recorder()]).fit(X, y).step_, Pipeline)


def test_minibatch_bad_params():
    X, y = data()
    with pytest.raises(TypeError, match=re.escape(
            "MiniBatch trains its step with partial_fit, which Ridge does not have.")):
        MiniBatch(Ridge()).fit(X, y)
    with pytest.raises(ValueError, match=re.escape(
            "The 'predict_batch_size' parameter of MiniBatch must be an int")):
        MiniBatch(Recorder(), predict_batch_size=0).fit(X, y)


# --- EpochRepeater, ValidationSplit ------------------------------------------------------------

def test_epochs_and_validation_rows_never_reach_training():
    X, y = data(200)
    model = EpochRepeater(ValidationSplit(MiniBatch(Recorder(), batch_size=50),
                                          validation_size=0.15), epochs=3).fit(X, y)
    recorder = model.step_.step_.step_
    assert model.n_epochs_ == 3 and len(model.epoch_seconds_) == 3
    assert len(recorder.batches_) == 3 * 4  # 170 training rows: 50, 50, 50, 20 per epoch
    assert recorder.adapted_rows_ == 170
    validation = model.step_.validation_indices_
    np.testing.assert_array_equal(validation, np.arange(170, 200))  # the last 15%, in order
    assert set(recorder.seen_rows()).isdisjoint(validation)
    assert len(model.step_.validation_scores_) == 3


def test_shuffled_split_is_deterministic_and_disjoint():
    X, y = data(100)
    splits = [ValidationSplit(MiniBatch(Recorder()), shuffle=True, random_state=3).fit(X, y)
              for _ in range(2)]
    np.testing.assert_array_equal(splits[0].validation_indices_, splits[1].validation_indices_)
    train, validation = splits[0].train_indices_, splits[0].validation_indices_
    assert set(train).isdisjoint(validation) and len(train) + len(validation) == 100
    assert set(splits[0].step_.step_.seen_rows()) == set(train)


def test_early_stopping_and_best_weights_restored():
    # the weight gets further from 1 (the perfect one) after the second pass
    schedule = {1: 0.5, 2: 1.0, 3: 2.0, 4: 3.0, 5: 4.0, 6: 5.0}.get
    X, y = data(100)
    split = ValidationSplit(Recorder(schedule=schedule), patience=2, restore_best_weights=True)
    model = EpochRepeater(split, epochs=6).fit(X, y)
    assert model.n_epochs_ == 4  # best at pass 2 (index 1), then 2 passes without progress
    assert split.best_epoch_ == 1 and split.stop_training_
    assert split.step_.weight_ == 1.0  # restored


def test_divergence_names_epoch_and_batch_and_restores_weights():
    X, y = data(100)
    model = EpochRepeater(MiniBatch(Recorder(fail_at=6), batch_size=40), epochs=3)
    with pytest.raises(DivergedError, match=re.escape(
            "the loss became nan at epoch 2, batch 0. Weights were restored to the end of "
            "epoch 1.")):
        model.fit(X, y)
    assert model.n_epochs_ == 2
    assert model.step_.step_.weight_ == 1.0  # finite again


def test_keyboard_interrupt_leaves_the_last_completed_epoch():
    X, y = data(100)
    model = EpochRepeater(MiniBatch(Recorder(fail_at=4, failure="interrupt"), batch_size=40),
                          epochs=3)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    assert model.n_epochs_ == 1
    np.testing.assert_array_equal(model.predict(X), X[:, 0])  # usable: weight restored to 1


def test_reshuffles_every_epoch_reproducibly():
    X, y = data(60)

    def orders():
        model = EpochRepeater(Pipeline([TrainOnly(DataShuffler(random_state=0)),
                                        MiniBatch(Recorder(), batch_size=60)]), epochs=3)
        return model.fit(X, y).step_[-1].step_.batches_

    first = orders()
    assert first[0] != first[1] != first[2]
    assert first == orders()


# --- MetricsWrapper and histories ------------------------------------------------------------

def test_metrics_per_batch_and_per_epoch_with_validation():
    X, y = data(200)
    model = seed003_training(Pipeline([Recorder()]), epochs=3, batch_size=50)
    model.fit(X, y)
    history = model.history_
    assert set(history) == {"epoch_metrics", "batch_metrics"}
    assert [len(history["epoch_metrics"][s]["mse"]) for s in ("train", "validation")] == [3, 3]
    assert len(history["batch_metrics"]["train"]["mse"]) == 3 * 4
    assert history["batch_metrics"]["validation"]["mse"] == []


def test_metric_names_callables_and_flattening():
    X, y = data(40)
    wrapper = MetricsWrapper(Ridge(), metrics={"mse": "mse", "mae": "neg_mean_absolute_error",
                                               "max": lambda t, p: float(np.max(np.abs(t - p)))})
    wrapper.fit(X, y)
    assert set(wrapper.history_["train"]) == {"mse", "mae", "max"}
    y3 = np.arange(24.0).reshape(2, 3, 4)
    values = wrapper.record("validation", y3, y3 + 2.0)
    assert values == {"mse": 4.0, "mae": -2.0, "max": 2.0}
    with pytest.raises(ValueError, match=re.escape("Unknown metric 'nope'")):
        MetricsWrapper(Ridge(), metrics="nope").fit(X, y)
    wrapper.fit(X, y)
    assert wrapper.history_["validation"]["mse"] == []  # fit starts a new history


# --- scikit-learn compatibility of the composition --------------------------------------------

def composition(epochs=2, batch_size=20):
    return EpochRepeater(ValidationSplit(MiniBatch(SGDRegressor(random_state=0),
                                                   batch_size=batch_size)), epochs=epochs)


def test_clone_params_and_nested_set_params():
    model = composition()
    params = model.get_params()
    assert params["step__step__batch_size"] == 20
    model.set_params(step__step__batch_size=7, epochs=4)
    assert model.step.step.batch_size == 7 and model.epochs == 4
    copy = clone(model)
    assert copy.get_params()["step__step__batch_size"] == 7
    assert copy.step.step is not model.step.step and not hasattr(copy, "step_")


def test_grid_search_and_cross_val_score_without_scoring():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = X @ [1.0, -2.0, 0.5]
    scores = cross_val_score(composition(), X, y, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    search = GridSearchCV(composition(), {"epochs": [1, 3], "step__step__batch_size": [10, 40]},
                          cv=3).fit(X, y)
    assert search.best_params_["epochs"] in (1, 3)
    assert search.best_estimator_.predict(X).shape == (120,)


def test_fitted_composition_pickles():
    X, y = data(100)
    model = seed003_training(Pipeline([MeanStdNormalizer(normalize_y=False), Recorder()]),
                             epochs=2, batch_size=30).fit(X, y)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict(X), model.predict(X))
    assert copy.history_ == model.history_


# --- PlotPredictions and plot_history ----------------------------------------------------------

class Persistence(RegressorMixin, BaseEstimator):
    """Forecasts that the future repeats the past window."""

    def fit(self, X, y):
        self.n_features_in_ = X.shape[-1]
        return self

    def predict(self, X):
        return np.asarray(X)


def test_plot_predictions_only_on_request(tmp_path):
    X = np.random.default_rng(0).normal(size=(12, 5, 2))
    step = PlotPredictions(Persistence(), path=tmp_path / "p.png", max_plotted=3)
    step.fit(X, X)
    step.predict_with_truth(X, X)
    assert not (tmp_path / "p.png").exists() and step.last_plot_ is None
    step.set_params(enabled=True).predict_with_truth(X, X)
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_history(tmp_path):
    X, y = data(100)
    model = seed003_training(Pipeline([Recorder()]), epochs=2, batch_size=50).fit(X, y)
    assert plot_history(model, tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError, match="needs at least one recorded metric"):
        plot_history({}, tmp_path / "empty.png")
