"""Table output as in scikit-learn (issue 19, item 3): ``set_output`` and
``get_feature_names_out`` on the steps whose outputs are 2-D tables, a clear error where
windows cannot be tables, and no feature-name warning when fitting on a DataFrame."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline as sklearn_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_global_output_transform_pandas,
    check_set_output_transform,
    check_set_output_transform_pandas,
)

from seqpipe import Pipeline, make_pipeline
from seqpipe.forecasting import CalendarFeatures
from seqpipe.steps import MeanStdNormalizer, ToNumpy, Windower

TABLE_STEPS = [MeanStdNormalizer(), ToNumpy(), ToNumpy(dtype=None),
               make_pipeline(ToNumpy(), MeanStdNormalizer())]


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(30, 3)) * [1.0, 10.0, 100.0],
                        columns=["a", "b", "c"], index=pd.RangeIndex(100, 130))


@pytest.mark.parametrize("check", [check_set_output_transform,
                                   check_set_output_transform_pandas,
                                   check_global_output_transform_pandas],
                         ids=lambda check: check.__name__)
@pytest.mark.parametrize("step", TABLE_STEPS, ids=repr)
def test_sklearns_set_output_checks(step, check):
    check(type(step).__name__, step)


@pytest.mark.parametrize("step", TABLE_STEPS, ids=repr)
def test_pandas_output_on_every_path(step, frame):
    arrays = sklearn.base.clone(step).fit(frame)
    tables = sklearn.base.clone(step).set_output(transform="pandas").fit(frame)
    for method in ("transform", "fit_transform", "fit_resample", "resample"):
        out = getattr(tables, method)(frame)
        out = out[0] if isinstance(out, tuple) else out
        assert isinstance(out, pd.DataFrame), method
        assert out.columns.tolist() == ["a", "b", "c"]
        assert out.index.equals(frame.index)
        np.testing.assert_array_equal(out.to_numpy(), arrays.transform(frame))
    assert tables.get_feature_names_out().tolist() == ["a", "b", "c"]


def test_feature_names_out_without_names_and_with_wrong_names():
    norm = MeanStdNormalizer().fit(np.zeros((4, 2)))
    assert norm.get_feature_names_out().tolist() == ["x0", "x1"]
    assert norm.get_feature_names_out(["u", "v"]).tolist() == ["u", "v"]
    with pytest.raises(ValueError, match="input_features should have length equal to "
                                         "number of features"):
        norm.get_feature_names_out(["u"])


def test_the_next_step_sees_the_same_feature_names_when_fitted_and_when_predicting(frame):
    pipe = Pipeline([MeanStdNormalizer().set_output(transform="pandas"), Ridge()])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe.fit(frame, frame["a"]).predict(frame)
    assert pipe[-1].feature_names_in_.tolist() == ["a", "b", "c"]
    assert pipe.get_feature_names_out is not None
    assert make_pipeline(ToNumpy(), MeanStdNormalizer()).fit(frame).get_feature_names_out(
    ).tolist() == ["a", "b", "c"]


@pytest.mark.parametrize("fit", [lambda step, X: step.fit(X), lambda step, X: step.fit(X, X)],
                         ids=["fit", "fit with y"])
def test_fitting_on_a_dataframe_does_not_warn_about_feature_names(frame, fit):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(MeanStdNormalizer(), frame)
        fit(ToNumpy(), frame)
        make_pipeline(MeanStdNormalizer(), Ridge()).fit(frame, frame["a"]).predict(frame)


# ------------------------------------------------------------------ windows
def test_a_normalizer_asked_for_tables_refuses_windows():
    windows = np.zeros((4, 5, 2))
    with pytest.raises(ValueError, match=re.escape(
            "MeanStdNormalizer.set_output(transform='pandas') makes 2-D tables, but its "
            "output has shape (4, 5, 2): 3-D windows (n_samples, n_timesteps, n_features) "
            "have no table form. Use set_output(transform='default') for windows.")):
        MeanStdNormalizer().set_output(transform="pandas").fit(windows)


def test_windows_stay_arrays_under_the_global_pandas_setting(frame):
    with sklearn.config_context(transform_output="pandas"):
        assert isinstance(MeanStdNormalizer().fit_transform(np.zeros((4, 5, 2))), np.ndarray)
        assert isinstance(MeanStdNormalizer().fit_transform(frame), pd.DataFrame)


@pytest.mark.parametrize("set_output", [
    lambda transform: Windower(3, 1).set_output(transform=transform),
    lambda transform: make_pipeline(MeanStdNormalizer(), Windower(3, 1)).set_output(
        transform=transform),
    lambda transform: sklearn_pipeline(StandardScaler(), Windower(3, 1)).set_output(
        transform=transform),
], ids=["Windower", "seqpipe Pipeline", "sklearn Pipeline"])
def test_windower_says_why_it_cannot_output_tables(set_output):
    with pytest.raises(ValueError, match=re.escape(
            "Windower cannot output pandas tables: it cuts a series into 3-D windows "
            "(n_windows, window_size_past, n_features), which a DataFrame (2-D) cannot "
            "hold.")):
        set_output("pandas")
    set_output("default")  # arrays, as always
    set_output(None)  # unchanged


@pytest.mark.parametrize("step", [MeanStdNormalizer(), ToNumpy(), Windower(3, 1)], ids=repr)
def test_an_unknown_container_is_refused_when_set(step):
    with pytest.raises(ValueError, match=re.escape(
            f"The 'transform' parameter of {type(step).__name__}.set_output must be a str "
            f"among")):
        step.set_output(transform="numpy")


# ------------------------------------------------------------------ calendar features
def test_calendar_features_are_tables_with_their_names():
    dates = pd.date_range("2024-01-01", periods=24 * 20, freq="h")
    series = pd.Series(np.arange(len(dates), dtype=float), index=dates)
    calendar = CalendarFeatures()
    names = ["hour_sin", "hour_cos", "dayofweek_sin", "dayofweek_cos"]
    for transform in ("pandas", "default"):
        out = calendar.set_output(transform=transform).fit_transform(series)
        assert out.columns.tolist() == names
        assert out.index.equals(dates)
    assert calendar.get_feature_names_out().tolist() == names
    scaled = sklearn_pipeline(CalendarFeatures(), StandardScaler()).set_output(
        transform="pandas").fit(series).transform(series)
    assert scaled.columns.tolist() == names
    assert scaled.index.equals(dates)
