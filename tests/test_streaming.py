"""StreamingPredictor: one time step in, the pipeline's prediction for the last window out."""

import pickle
import re

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline as SklearnPipeline

from seqpipe import Pipeline, StreamingPredictor, load, save
from seqpipe.steps import MeanStdNormalizer, MetricsWrapper, ToNumpy, Windower
from seqpipe.streaming import _inner_steps, takes_series

PAST = 5


class FlatRidge(RegressorMixin, BaseEstimator):
    """Ridge on flattened windows, predicting y of any shape (module level: pickles)."""

    def fit(self, X, y):
        self.y_shape_ = np.shape(y)[1:]
        self.ridge_ = Ridge(alpha=0.1).fit(np.reshape(X, (len(X), -1)),
                                           np.reshape(y, (len(y), -1)))
        return self

    def predict(self, X):
        flat = self.ridge_.predict(np.reshape(X, (len(X), -1)))
        return flat.reshape((len(X), *self.y_shape_))


def windows_of(series, past=PAST):
    return np.moveaxis(sliding_window_view(series, past, axis=0), -1, 1)


@pytest.fixture(scope="module")
def series():
    t = np.arange(120.0)
    noise = np.random.default_rng(0).normal(scale=0.1, size=(120, 2))
    return np.stack([np.sin(0.3 * t), np.cos(0.2 * t)], axis=1) * [10.0, 3.0] + 50.0 + noise


@pytest.fixture(scope="module")
def window_pipeline(series):
    """Fitted on windows (n, PAST, 2) -> next time step (n, 2); no Windower inside."""
    X, y = windows_of(series)[:-1], series[PAST:]
    return Pipeline([MeanStdNormalizer(), FlatRidge()]).fit(X, y)


@pytest.fixture(scope="module")
def series_pipeline(series):
    """A Windower inside, fitted on the series: 3 future steps of 2 features."""
    return Pipeline([MeanStdNormalizer(), Windower(PAST, 3), FlatRidge()]).fit(series)


def stream(predictor, values):
    return [predictor.update(v) for v in values]


# ---------------------------------------------------------------- answers equal predict
def test_answers_equal_predict_on_the_same_windows(window_pipeline, series):
    predictor = StreamingPredictor(window_pipeline, window_size_past=PAST)
    assert predictor.n_features_in_ == 2 and not predictor.takes_series_
    answers = stream(predictor, series[:40])
    assert answers[:PAST - 1] == [None] * (PAST - 1)
    streamed = np.stack(answers[PAST - 1:])
    expected = window_pipeline.predict(windows_of(series[:40]))
    assert streamed.shape == expected.shape == (36, 2)
    # one window at a time vs a batch: NumPy float64, so at most round-off apart
    np.testing.assert_allclose(streamed, expected, rtol=1e-12, atol=1e-9)
    # in y's units (about 50), not the normalizer's: the answers predict the next value
    assert np.abs(streamed - series[PAST:41]).mean() < 1.0


def test_a_windower_inside_gets_the_buffer_as_a_series(series_pipeline, series):
    predictor = StreamingPredictor(series_pipeline)
    assert predictor.window_size_past == PAST and predictor.takes_series_
    answers = stream(predictor, series[:30])
    streamed = np.stack(answers[PAST - 1:])
    expected = series_pipeline.predict(series[:30])  # every past window of the series
    assert streamed.shape == expected.shape == (26, 3, 2)
    np.testing.assert_allclose(streamed, expected, rtol=1e-12, atol=1e-9)


def test_update_many_equals_update_one_at_a_time(series_pipeline, series):
    one_by_one = stream(StreamingPredictor(series_pipeline), series[:25])
    predictor = StreamingPredictor(series_pipeline)
    blocks = [series[:2], series[2:3], series[3:11], series[11:25]]  # across the warm-up
    many = [a for block in blocks for a in predictor.update_many(block)]
    assert [a is None for a in many] == [a is None for a in one_by_one]
    np.testing.assert_allclose(np.stack(many[PAST - 1:]), np.stack(one_by_one[PAST - 1:]),
                               rtol=1e-12, atol=1e-9)
    assert predictor.update_many(np.empty((0, 2))) == []


def test_a_windower_with_a_stride_still_answers_every_time_step(series):
    pipe = Pipeline([MeanStdNormalizer(), Windower(PAST, 2, stride=3), FlatRidge()]).fit(series)
    predictor = StreamingPredictor(pipe)
    many = predictor.update_many(series[:20])
    assert many[:PAST - 1] == [None] * (PAST - 1)
    expected = [pipe.predict(series[end - PAST + 1:end + 1])[0] for end in range(PAST - 1, 20)]
    np.testing.assert_allclose(np.stack(many[PAST - 1:]), np.stack(expected), rtol=1e-12,
                               atol=1e-9)
    # the last window of any series ending there: what predict answers for that series
    np.testing.assert_allclose(predictor.update(series[20]), pipe.predict(series[:21])[-1],
                               rtol=1e-12, atol=1e-9)


def test_reset_starts_a_new_stream(window_pipeline, series):
    predictor = StreamingPredictor(window_pipeline, window_size_past=PAST)
    stream(predictor, series[50:60])
    assert predictor.reset() is predictor and predictor.n_buffered == 0
    assert predictor.window() is None
    answers = stream(predictor, series[:PAST])
    assert answers[:-1] == [None] * (PAST - 1)
    np.testing.assert_allclose(answers[-1], window_pipeline.predict(series[None, :PAST])[0],
                               rtol=1e-12, atol=1e-9)


def test_buffer_is_bounded_and_holds_the_last_steps(window_pipeline, series):
    predictor = StreamingPredictor(window_pipeline, window_size_past=PAST)
    buffer = predictor._buffer
    stream(predictor, series[:3])
    np.testing.assert_array_equal(predictor.window(), series[:3])
    stream(predictor, np.tile(series, (3, 1)))  # 360 time steps
    assert predictor.n_buffered == PAST
    assert predictor._buffer is buffer and buffer.shape == (PAST, 2)
    np.testing.assert_array_equal(predictor.window(), series[-PAST:])


def test_one_feature_takes_scalars(series):
    x = series[:, 0]
    X, y = windows_of(x[:, None])[:-1], x[PAST:]
    pipe = Pipeline([MeanStdNormalizer(), FlatRidge()]).fit(X, y)
    predictor = StreamingPredictor(pipe, window_size_past=PAST)
    assert predictor.n_features_in_ == 1
    answers = [predictor.update(v) for v in x[:PAST - 1]] + [predictor.update([x[PAST - 1]])]
    assert answers[:-1] == [None] * (PAST - 1)
    assert np.shape(answers[-1]) == ()
    np.testing.assert_allclose(answers[-1], pipe.predict(X[:1])[0], rtol=1e-12)
    assert predictor.update_many(x[PAST:PAST + 3])[-1] == pytest.approx(pipe.predict(X[3:4])[0])
    assert predictor.update(np.int64(50)) is not None  # integers are numbers too


# ---------------------------------------------------------------- persistence
def test_pickles_and_saves_with_its_buffer(window_pipeline, series, tmp_path):
    predictor = StreamingPredictor(window_pipeline, window_size_past=PAST)
    stream(predictor, series[:3])
    copy = pickle.loads(pickle.dumps(predictor))
    path = save(predictor, tmp_path / "stream.seqpipe")
    loaded = load(path)
    assert loaded.n_buffered == copy.n_buffered == 3
    expected = stream(predictor, series[3:12])
    for other in (copy, loaded):
        got = stream(other, series[3:12])
        assert got[0] is None and got[1] is not None  # resumed: 2 more made a full window
        np.testing.assert_array_equal(np.stack(got[1:]), np.stack(expected[1:]))


def test_keras_pipeline_infers_the_window_and_matches_predict(tmp_path):
    keras = pytest.importorskip("keras")
    from seqpipe.steps import KerasModelStep

    t = np.linspace(0, 20, 160)
    series = np.stack([np.sin(t), np.cos(t)], axis=1).astype("float32")
    X, y = windows_of(series, 6)[:-2], np.stack([series[i + 6:i + 8] for i in range(153)])
    step = KerasModelStep(_dense, units=3, epochs=1, batch_size=64, random_state=0)
    pipe = MetricsWrapper(Pipeline([MeanStdNormalizer(), ToNumpy(), step])).fit(X, y)
    predictor = StreamingPredictor(pipe)  # n_timesteps_in_ found inside the meta-step
    assert predictor.window_size_past == 6 and predictor.n_features_in_ == 2
    answers = stream(predictor, series[:30])
    streamed = np.stack(answers[5:])
    expected = pipe.predict(windows_of(series[:30], 6))
    assert streamed.shape == expected.shape == (25, 2, 2)
    # Keras computes in float32; a batch of one may sum in another order than a batch
    np.testing.assert_allclose(streamed, expected, rtol=1e-5, atol=1e-6)

    loaded = load(save(predictor, tmp_path / "keras_stream.seqpipe"))
    assert isinstance(loaded.pipeline.step_[-1].model_, keras.Model)
    np.testing.assert_allclose(loaded.update(series[30]), predictor.update(series[30]),
                               rtol=1e-6, atol=1e-7)


def _dense(input_dim, output_dim, window_size_future, *, units=3):
    import keras

    inputs = keras.Input(shape=(None, input_dim))
    hidden = keras.layers.Dense(units, activation="tanh")(keras.layers.GRU(units)(inputs))
    outputs = keras.layers.Dense(window_size_future * output_dim)(hidden)
    return keras.Model(inputs, keras.layers.Reshape((window_size_future, output_dim))(outputs))


# ---------------------------------------------------------------- bad values
@pytest.mark.parametrize("value, message", [
    ([1.0, 2.0, 3.0], "expects one time step of shape (2,) (the pipeline was fitted on 2 "
                      "features); got shape (3,)"),
    (1.0, "expects one time step of shape (2,) (the pipeline was fitted on 2 features); "
          "got shape ()"),
    ([[1.0, 2.0]], "got shape (1, 2)"),
    ([1.0, np.nan], "got a NaN or infinite value"),
    ([np.inf, 1.0], "got a NaN or infinite value"),
    (["1", "2"], "expects numbers (int or float)"),
    ([None, 1.0], "expects numbers (int or float)"),
    (1 + 2j, "expects numbers (int or float)"),
])
def test_bad_values_are_refused_before_any_work(window_pipeline, series, value, message):
    predictor = StreamingPredictor(window_pipeline, window_size_past=PAST)
    stream(predictor, series[:PAST - 1])
    before = predictor.window()
    with pytest.raises(ValueError, match=re.escape(message)):
        predictor.update(value)
    np.testing.assert_array_equal(predictor.window(), before)
    assert predictor.update(series[PAST - 1]) is not None  # still works


@pytest.mark.parametrize("values, message", [
    (np.ones((3, 3)), "expects time steps of shape (k, 2)"),
    (np.ones(3), "got shape (3,)"),
    ([[1.0, 2.0], [np.nan, 1.0]], "got a NaN or infinite value"),
    ([[1.0, 2.0], [1.0]], "could not read"),
])
def test_update_many_refuses_the_whole_block(window_pipeline, series, values, message):
    predictor = StreamingPredictor(window_pipeline, window_size_past=PAST)
    stream(predictor, series[:2])
    with pytest.raises(ValueError, match=re.escape(message)):
        predictor.update_many(values)
    assert predictor.n_buffered == 2


# ---------------------------------------------------------------- bad pipelines
def test_unfitted_pipeline_is_refused():
    with pytest.raises(NotFittedError, match="Pipeline instance is not fitted yet"):
        StreamingPredictor(Pipeline([MeanStdNormalizer(), FlatRidge()]), window_size_past=3)


def test_a_pipeline_that_does_not_predict_is_refused(series):
    transformer = Pipeline([MeanStdNormalizer()]).fit(series)
    with pytest.raises(TypeError, match=re.escape(
            "needs a fitted pipeline that predicts (has a 'predict' method); got Pipeline")):
        StreamingPredictor(transformer, window_size_past=3)


def test_window_size_that_cannot_be_inferred_is_asked_for(window_pipeline):
    with pytest.raises(ValueError, match=re.escape("Pass window_size_past=<time steps")):
        StreamingPredictor(window_pipeline)


def test_window_size_must_match_the_windower(series_pipeline):
    assert StreamingPredictor(series_pipeline, window_size_past=PAST).window_size_past == PAST
    with pytest.raises(ValueError, match=re.escape(
            "window_size_past=4 does not match the pipeline's Windower, which cuts "
            "windows of 5 time steps")):
        StreamingPredictor(series_pipeline, window_size_past=4)


@pytest.mark.parametrize("size", [0, -1, 2.5, True, "5"])
def test_window_size_must_be_a_positive_int(window_pipeline, size):
    with pytest.raises(ValueError, match=re.escape(
            "The 'window_size_past' parameter of StreamingPredictor must be an int in the "
            f"range [1, inf) or None. Got {size!r} instead.")):
        StreamingPredictor(window_pipeline, window_size_past=size)


def test_features_that_cannot_be_inferred_are_asked_for(series):
    bare = FlatRidge().fit(windows_of(series)[:-1], series[PAST:])
    with pytest.raises(ValueError, match=re.escape("has no n_features_in_. Pass n_features=")):
        StreamingPredictor(bare, window_size_past=PAST)
    predictor = StreamingPredictor(bare, window_size_past=PAST, n_features=2)
    answers = stream(predictor, series[:PAST])
    np.testing.assert_allclose(answers[-1], bare.predict(series[None, :PAST])[0], rtol=1e-12)


# ---------------------------------------------------------------- found by mutation testing
def test_a_window_of_one_time_step_is_allowed(series):
    bare = FlatRidge().fit(series[:-1, None, :], series[1:])  # the next step from one step
    predictor = StreamingPredictor(bare, window_size_past=1, n_features=2)
    np.testing.assert_allclose(predictor.update(series[0]), bare.predict(series[None, :1])[0],
                               rtol=1e-12)


def test_update_many_names_itself_and_reads_a_block(window_pipeline):
    predictor = StreamingPredictor(window_pipeline, window_size_past=PAST)
    with pytest.raises(ValueError, match=r"^StreamingPredictor\.update_many expects time steps "
                                         r"of shape \(k, 2\)"):
        predictor.update_many(np.ones((3, 3)))
    assert predictor.update_many(np.ones((2, 2))) == [None, None]  # a block, not one step


class WindowRidge(FlatRidge):
    """FlatRidge that records its window length, as KerasModelStep does."""

    def fit(self, X, y):
        self.n_timesteps_in_ = np.shape(X)[1]
        return super().fit(X, y)


def test_the_window_is_inferred_from_a_step_recording_it_inside_a_meta_step(series):
    # the Keras pipeline's path without Keras: MetricsWrapper(Pipeline([..., step]))
    X, y = windows_of(series, 6)[:-1], series[6:]
    pipe = MetricsWrapper(Pipeline([MeanStdNormalizer(), ToNumpy(), WindowRidge()])).fit(X, y)
    predictor = StreamingPredictor(pipe)
    assert predictor.window_size_past == 6 and predictor.n_features_in_ == 2
    assert not predictor.takes_series_
    answers = stream(predictor, series[:30])
    assert answers[:5] == [None] * 5
    np.testing.assert_allclose(np.stack(answers[5:]), pipe.predict(windows_of(series[:30], 6)),
                               rtol=1e-12, atol=1e-9)
    assert repr(predictor) == ("StreamingPredictor(MetricsWrapper, window_size_past=6, "
                               "n_features=2, n_buffered=6)")


class NoFeatureCount(BaseEstimator, TransformerMixin):
    """A samplewise step that records no n_features_in_ (a Pipeline starting with it
    has none either)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X) * 2.0


class CountingRidge(FlatRidge):
    """FlatRidge counting its predict calls."""

    calls = []

    def predict(self, X):
        CountingRidge.calls.append(len(X))
        return super().predict(X)


class OneAnswer(FlatRidge):
    """FlatRidge answering one prediction, however many windows it is given."""

    def predict(self, X):
        return super().predict(X)[:1]


def test_the_steps_inside_pipelines_and_meta_steps_are_found():
    windower, ridge = Windower(PAST, 1), Ridge()
    sk = SklearnPipeline([("skip", "passthrough"), ("w", windower), ("none", None),
                          ("r", ridge)])
    assert list(_inner_steps(sk)) == [sk, windower, ridge]  # not "passthrough", None
    assert takes_series(sk)
    # an unfitted meta-step: its step, a pipeline or a list of steps
    assert takes_series(MetricsWrapper(Pipeline([Windower(PAST, 1), Ridge()])))
    assert takes_series(MetricsWrapper([Windower(PAST, 1), Ridge()]))
    assert not takes_series(MetricsWrapper([MeanStdNormalizer(), Ridge()]))


def test_a_fitted_meta_step_is_looked_into_through_the_step_it_predicts_with(series):
    X, y = windows_of(series)[:-1], series[PAST:]
    meta = MetricsWrapper(Pipeline([MeanStdNormalizer(), WindowRidge()])).fit(X, y)
    meta.set_params(step=Pipeline([Windower(PAST, 1), FlatRidge()]))  # not refitted
    assert not takes_series(meta)  # predict still uses the fitted step_
    predictor = StreamingPredictor(meta)
    assert not predictor.takes_series_ and predictor.window_size_past == PAST


def test_the_features_come_from_the_windower_when_the_pipeline_records_none(series):
    pipe = Pipeline([NoFeatureCount(), Windower(PAST, 1), FlatRidge()]).fit(series)
    predictor = StreamingPredictor(pipe)
    assert predictor.n_features_in_ == 2
    np.testing.assert_allclose(stream(predictor, series[:PAST])[-1],
                               pipe.predict(series[:PAST])[-1], rtol=1e-12)


def test_update_many_predicts_all_its_windows_in_one_call(series):
    pipe = Pipeline([MeanStdNormalizer(), Windower(PAST, 1), CountingRidge()]).fit(series)
    predictor = StreamingPredictor(pipe)
    CountingRidge.calls.clear()
    answers = predictor.update_many(series[:20])
    assert CountingRidge.calls == [16]  # the 16 full windows, in one call
    np.testing.assert_allclose(np.stack(answers[PAST - 1:]), pipe.predict(series[:20]),
                               rtol=1e-12, atol=1e-9)


def test_a_pipeline_answering_too_few_predictions_is_an_error_saying_so(series):
    bare = OneAnswer().fit(windows_of(series)[:-1], series[PAST:])
    predictor = StreamingPredictor(bare, window_size_past=PAST, n_features=2)
    with pytest.raises(ValueError) as caught:
        predictor.update_many(series[:8])
    assert str(caught.value) == ("OneAnswer.predict returned 1 predictions for 4 window(s) "
                                 "of 5 time steps; StreamingPredictor needs one per window.")


def test_refusals_name_the_method_the_shapes_and_the_pipeline(series):
    x = series[:, :1]
    one = StreamingPredictor(Pipeline([MeanStdNormalizer(), FlatRidge()]).fit(
        windows_of(x)[:-1], x[PAST:, 0]), window_size_past=PAST)
    two = StreamingPredictor(Pipeline([MeanStdNormalizer(), FlatRidge()]).fit(
        windows_of(series)[:-1], series[PAST:]), window_size_past=PAST)
    bare = FlatRidge().fit(windows_of(series)[:-1], series[PAST:])
    cases = [
        (lambda: one.update([1.0, 2.0]), "StreamingPredictor.update expects a scalar or one "
         "time step of shape (1,) (the pipeline was fitted on 1 feature); got shape (2,)."),
        (lambda: one.update_many(np.ones((3, 2))), "StreamingPredictor.update_many expects "
         "time steps of shape (k, 1) or (k,) (the pipeline was fitted on 1 feature); got "
         "shape (3, 2)."),
        (lambda: two.update_many(np.ones(3)), "StreamingPredictor.update_many expects time "
         "steps of shape (k, 2) (the pipeline was fitted on 2 features); got shape (3,)."),
        (lambda: two.update(["a", "b"]), "StreamingPredictor.update expects numbers (int or "
         "float), got ['a', 'b'] (dtype <U1)."),
        (lambda: StreamingPredictor(bare, window_size_past=PAST, n_features=0),
         "The 'n_features' parameter of StreamingPredictor must be an int in the range "
         "[1, inf) or None. Got 0 instead."),
        (lambda: StreamingPredictor(bare, window_size_past=PAST), "StreamingPredictor "
         "cannot infer the number of features per time step: FlatRidge has no "
         "n_features_in_. Pass n_features=<d>."),
        (lambda: StreamingPredictor(bare), "StreamingPredictor cannot infer window_size_past "
         "from FlatRidge: it holds neither a Windower nor a step that records its window "
         "length (n_timesteps_in_, as KerasModelStep). Pass window_size_past=<time steps "
         "per window>."),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as caught:
            call()
        assert str(caught.value) == message
