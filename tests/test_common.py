"""scikit-learn's estimator checks over every step and over small pipelines."""

from sklearn.linear_model import Ridge, SGDRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from seqpipe import Pipeline
from seqpipe.steps import (
    DataShuffler,
    EpochRepeater,
    KerasModelStep,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    PlotPredictions,
    ToNumpy,
    TrainOnly,
    ValidationSplit,
    Windower,
)


class DenseRegressor:
    """A tiny Keras builder with a stable repr (test ids must not hold addresses)."""

    def __repr__(self):
        return "DenseRegressor()"

    def __call__(self, input_shape, output_shape, units=4):
        return dense_regressor(input_shape, output_shape, units)


def dense_regressor(input_shape, output_shape, units=4):
    import keras

    inputs = keras.Input(shape=input_shape)
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(units, activation="tanh")(x)
    outputs = keras.layers.Dense(max(1, int(_prod(output_shape))))(x)
    if len(output_shape) == 0:
        outputs = keras.layers.Reshape(())(outputs)
    return keras.Model(inputs, outputs)


def _prod(shape):
    out = 1
    for n in shape:
        out *= n
    return out


# ForEach takes 3-D data only (tags.input_tags.two_d_array=False), so none of
# scikit-learn's 2-D checks apply; tests/steps/test_convert_shuffle_flow.py covers its API.
ESTIMATORS = [
    MeanStdNormalizer(normalize_y=False),
    ToNumpy(),
    DataShuffler(random_state=0),
    TrainOnly(MeanStdNormalizer(normalize_y=False)),
    Windower(window_size_past=1, window_size_future=1),
    KerasModelStep(DenseRegressor(), epochs=2, random_state=0),
    Pipeline([MeanStdNormalizer(normalize_y=False), Ridge()]),
    Pipeline([ToNumpy(), MeanStdNormalizer(normalize_y=False)]),
    MiniBatch(SGDRegressor(random_state=0), batch_size=16),
    EpochRepeater(MiniBatch(SGDRegressor(random_state=0), batch_size=16), epochs=2),
    ValidationSplit(MiniBatch(SGDRegressor(random_state=0), batch_size=16)),
    MetricsWrapper(Ridge()),
    PlotPredictions(Ridge()),
]

IN_PLACE = (
    "meta-steps fit the steps they hold in place, as sklearn.pipeline.Pipeline does, so "
    "the fitted inner step's attributes change the parameter's hash"
)
SHUFFLES = (
    "a sample step: fit_transform returns the training data shuffled, transform returns "
    "it unchanged, by design"
)
WINDOWS = (
    "a sample step: fit_transform returns the windows that have a full future, transform "
    "every past window (window_size_future more), by design"
)
EXPECTED_FAILED = {
    "DataShuffler": {
        "check_transformer_general": SHUFFLES,
        "check_transformer_general(readonly_memmap=True)": SHUFFLES,
        "check_transformer_data_not_an_array": SHUFFLES,
    },
    **{name: {"check_estimators_overwrite_params": IN_PLACE} for name in (
        "TrainOnly", "MiniBatch", "EpochRepeater", "ValidationSplit", "MetricsWrapper",
        "PlotPredictions")},
    "Windower": {
        "check_transformer_general": WINDOWS,
        "check_transformer_general(readonly_memmap=True)": WINDOWS,
        "check_transformer_data_not_an_array": WINDOWS,
        "check_fit2d_1sample": "a series of one time step is shorter than any window; the "
        "error names the window sizes rather than '1 sample'",
    },
    "Pipeline": {"check_estimators_overwrite_params": IN_PLACE},
    "KerasModelStep": {
        "check_regressor_multioutput": "Keras computes in float32; predictions stay float32 "
        "instead of being upcast to float64",
    },
}


def expected_failed(estimator):
    return EXPECTED_FAILED.get(type(estimator).__name__, {})


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed)
def test_sklearn_compatible(estimator, check):
    check(estimator)
