"""seqpipe.mlflow (issue 19, item 5) with the real MLflow on a local SQLite tracking
store, no server: the flavor (log, register, load; pyfunc predicts bitwise as the
pipeline; signed artifacts checked on load), autolog (params, history curves, one child
run per trial of a search) and ``seqpipe serve models:/NAME/VERSION``."""

import contextlib
import os
import queue
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest

mlflow = pytest.importorskip("mlflow")

import seqpipe.mlflow  # noqa: E402
from seqpipe import Pipeline  # noqa: E402
from seqpipe.persistence import ArtifactError  # noqa: E402
from seqpipe.search import LogUniform, RandomSearch  # noqa: E402
from seqpipe.steps import (  # noqa: E402
    EpochRepeater,
    MeanStdNormalizer,
    MetricsWrapper,
    MiniBatch,
    ValidationSplit,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A local tracking store: an SQLite database and an artifacts folder."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("seqpipe", artifact_location=str(root / "art"))
    yield uri, experiment
    mlflow.set_tracking_uri(None)


@pytest.fixture
def experiment(store):
    uri, experiment_id = store
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(experiment_id=experiment_id)
    return experiment_id


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    return X, X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.1, size=120)


def ridge_pipeline(data):
    from sklearn.linear_model import Ridge

    return Pipeline([MeanStdNormalizer(), Ridge(alpha=0.5)]).fit(*data)


# ------------------------------------------------------------------ the flavor
def test_a_logged_keras_pipeline_predicts_bitwise_through_pyfunc(experiment):
    from seqpipe.models import seq2seq_gru
    from seqpipe.steps import KerasModelStep

    X = np.random.default_rng(0).normal(size=(40, 6, 2)).astype("float32")
    pipeline = Pipeline([MeanStdNormalizer(), KerasModelStep(
        seq2seq_gru, hidden_dim=3, layers_stacked_count=1, epochs=1,
        random_state=0)]).fit(X, X)
    with mlflow.start_run():
        info = seqpipe.mlflow.log_model(pipeline, "model", input_example=X[:2])
    expected = pipeline.predict(X)
    served = mlflow.pyfunc.load_model(info.model_uri)
    predicted = served.predict(X)
    assert predicted.dtype == expected.dtype and np.array_equal(predicted, expected)
    assert np.array_equal(seqpipe.mlflow.load_model(info.model_uri).predict(X), expected)
    inputs = info.signature.inputs.to_dict()[0]
    assert inputs["tensor-spec"] == {"dtype": "float32", "shape": (-1, 6, 2)}
    assert info.signature.outputs.to_dict()[0]["tensor-spec"]["shape"] == (-1, 6, 2)
    assert served.metadata.flavors["seqpipe"]["artifact"] == "model.seqpipe"
    assert "python_function" in served.metadata.flavors


def test_a_signed_model_is_checked_on_load_and_a_forged_one_refused(experiment, data,
                                                                     monkeypatch, tmp_path):
    pipeline = ridge_pipeline(data)
    X = data[0]
    with mlflow.start_run():
        signed = seqpipe.mlflow.log_model(pipeline, "signed", key="right key")
        unsigned = seqpipe.mlflow.log_model(pipeline, "unsigned")
    assert np.array_equal(seqpipe.mlflow.load_model(signed.model_uri, key="right key")
                          .predict(X), pipeline.predict(X))
    with pytest.raises(ArtifactError, match="signature does not match"):
        seqpipe.mlflow.load_model(signed.model_uri, key="wrong key")
    with pytest.raises(ArtifactError, match="is not signed but a key was given"):
        seqpipe.mlflow.load_model(unsigned.model_uri, key="right key")
    monkeypatch.setenv("SEQPIPE_KEY", "wrong key")  # pyfunc: the key of the environment
    with pytest.raises(ArtifactError, match="signature does not match"):
        mlflow.pyfunc.load_model(signed.model_uri)
    monkeypatch.setenv("SEQPIPE_KEY", "right key")
    assert np.array_equal(mlflow.pyfunc.load_model(signed.model_uri).predict(X),
                          pipeline.predict(X))
    # the artifact changed after signing (a forged pickle): refused before unpickling
    local = seqpipe.mlflow.local_artifact(signed.model_uri, tmp_path)
    body = bytearray(local.read_bytes())
    body[-5] ^= 1
    local.write_bytes(bytes(body))
    with pytest.raises(ArtifactError):
        seqpipe.mlflow.load_model(str(local.parent))


def test_mlflows_pickle_switch_lets_only_signed_models_load(experiment, data, monkeypatch,
                                                          tmp_path):
    pipeline = ridge_pipeline(data)
    seqpipe.mlflow.save_model(pipeline, tmp_path / "signed", key="k")
    seqpipe.mlflow.save_model(pipeline, tmp_path / "plain")
    monkeypatch.delenv("SEQPIPE_KEY", raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    with pytest.raises(mlflow.exceptions.MlflowException,
                       match="MLFLOW_ALLOW_PICKLE_DESERIALIZATION is false: configure"):
        mlflow.pyfunc.load_model(str(tmp_path / "plain"))
    with pytest.raises(mlflow.exceptions.MlflowException, match="unpickles it"):
        seqpipe.mlflow.load_model(str(tmp_path / "signed"))
    assert seqpipe.mlflow.load_model(str(tmp_path / "signed"), key="k") is not None
    monkeypatch.setenv("SEQPIPE_KEY", "k")
    assert mlflow.pyfunc.load_model(str(tmp_path / "signed")) is not None


def test_the_model_records_its_requirements_and_registers(experiment, data):
    with mlflow.start_run():
        info = seqpipe.mlflow.log_model(ridge_pipeline(data), "model",
                                        registered_model_name="ridge-pipeline")
    assert info.registered_model_version == 1
    local = mlflow.artifacts.download_artifacts(info.model_uri)
    requirements = open(os.path.join(local, "requirements.txt")).read().splitlines()
    assert f"seqpipe=={seqpipe.__version__}" in requirements
    assert any(line.startswith("scikit-learn==") for line in requirements)
    loaded = seqpipe.mlflow.load_model("models:/ridge-pipeline/1")
    assert np.array_equal(loaded.predict(data[0]), ridge_pipeline(data).predict(data[0]))


def test_bad_arguments_are_named(experiment, data, tmp_path):
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import Ridge

    with pytest.raises(NotFittedError, match="The 'pipeline' parameter of "
                                             "seqpipe.mlflow.log_model must be fitted"):
        seqpipe.mlflow.log_model(Pipeline([Ridge()]), "model")
    with pytest.raises(TypeError, match="must be a fitted estimator with predict. Got "
                                        "MeanStdNormalizer instead"):
        seqpipe.mlflow.save_model(MeanStdNormalizer().fit(data[0]), tmp_path / "m")
    with pytest.raises(ValueError, match="The 'name' parameter of seqpipe.mlflow.log_model "
                                         "must be a non-empty str. Got '' instead."):
        seqpipe.mlflow.log_model(ridge_pipeline(data), "")
    with pytest.raises(ValueError, match="The 'log_models' parameter of "
                                         "seqpipe.mlflow.autolog must be a bool"):
        seqpipe.mlflow.autolog(log_models="yes")
    mlflow.sklearn.save_model(Ridge().fit(*data), tmp_path / "sk",
                              serialization_format="pickle")
    with pytest.raises(mlflow.exceptions.MlflowException, match="is not a seqpipe model"):
        seqpipe.mlflow.load_model(str(tmp_path / "sk"))


# ------------------------------------------------------------------ autolog
@pytest.fixture
def autologging():
    seqpipe.mlflow.autolog(log_models=False)
    yield
    seqpipe.mlflow.autolog(disable=True)


def runs(experiment_id, filter_string=""):
    return mlflow.search_runs(experiment_ids=[experiment_id], filter_string=filter_string,
                              output_format="list")


def test_autolog_logs_a_search_with_one_child_run_per_trial(experiment, data, autologging):
    from sklearn.linear_model import Ridge

    before = {run.info.run_id for run in runs(experiment)}
    pipeline = Pipeline([MeanStdNormalizer(), Ridge()])  # its fits in the trials: patched
    search = RandomSearch(pipeline, {"ridge__alpha": LogUniform(1e-3, 1e3)}, n_trials=10,
                          cv=3, random_state=0).fit(*data)
    new = [run for run in runs(experiment) if run.info.run_id not in before]
    (parent,) = [run for run in new if "mlflow.parentRunId" not in run.data.tags]
    assert parent.info.run_name == "RandomSearch" and parent.info.status == "FINISHED"
    assert parent.data.metrics["best_cv_score"] == search.best_score_
    assert parent.data.params["best_ridge__alpha"] == str(
        search.best_params_["ridge__alpha"])
    assert parent.data.params["n_trials"] == "10"
    assert "ridge__alpha" not in parent.data.params  # nothing of the fits inside it
    assert parent.data.tags["optuna.study_name"] == search.study_.study_name
    children = runs(experiment, f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len(children) == 10 and len(new) == 11  # the trials' fits: not runs of their own
    by_number = {int(run.data.tags["optuna.trial_number"]): run for run in children}
    for trial in search.trials_:
        child = by_number[trial["number"]]
        assert child.info.run_name == f"trial {trial['number']}"
        assert child.data.params["ridge__alpha"] == str(trial["params"]["ridge__alpha"])
        assert child.data.metrics["mean_test_score"] == trial["value"]
        assert child.data.metrics["split2_test_score"] == trial["scores"][2]
        assert child.data.tags["state"] == "COMPLETE" and child.info.status == "FINISHED"


def test_autolog_logs_params_and_history_curves_then_stops_when_disabled(experiment,
                                                                          autologging):
    from sklearn.linear_model import SGDRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = X @ [1.0, -2.0, 0.5]
    model = EpochRepeater(ValidationSplit(MetricsWrapper(
        MiniBatch(SGDRegressor(random_state=0), batch_size=30), name="epoch_metrics",
        metrics=["mse"])), epochs=3)
    with mlflow.start_run() as run:
        model.fit(X, y)
    logged = mlflow.get_run(run.info.run_id)
    assert logged.data.params["epochs"] == "3"
    assert logged.data.params["step__step__step__step__alpha"] == "0.0001"
    assert logged.data.params["step__step__step"] == "MiniBatch"
    client = mlflow.MlflowClient()
    for subset in ("train", "validation"):
        curve = client.get_metric_history(run.info.run_id, f"epoch_metrics/{subset}/mse")
        assert [m.step for m in curve] == [0, 1, 2]
        assert [m.value for m in curve] == model.history_["epoch_metrics"][subset]["mse"]
    seqpipe.mlflow.autolog(disable=True)
    count = len(runs(experiment))
    model.fit(X, y)
    assert len(runs(experiment)) == count


def test_autolog_logs_the_fitted_model_with_its_signature(experiment, data):
    from sklearn.linear_model import Ridge

    seqpipe.mlflow.autolog()  # log_models=True by default
    try:
        pipeline = Pipeline([MeanStdNormalizer(), Ridge()]).fit(*data)
    finally:
        seqpipe.mlflow.autolog(disable=True)
    (run,) = runs(experiment, "attributes.run_name = 'Pipeline'")[:1]
    model = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    assert np.array_equal(model.predict(data[0]), pipeline.predict(data[0]))
    assert model.metadata.signature.inputs.to_dict()[0]["tensor-spec"]["shape"] == (-1, 3)


def test_autolog_ends_its_run_failed_when_the_fit_raises(experiment, autologging):
    from sklearn.linear_model import Ridge

    with pytest.raises(ValueError):
        Pipeline([Ridge()]).fit(np.ones((4, 2)), np.ones(3))
    (last,) = runs(experiment, "attributes.run_name = 'Pipeline'")[:1]
    assert last.info.status == "FAILED"
    assert mlflow.active_run() is None


# ------------------------------------------------------------------ serving
def first_line(stream, timeout):
    lines = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return None


@contextlib.contextmanager
def serving(spec, tracking_uri):
    env = {k: v for k, v in os.environ.items() if k != "SEQPIPE_KEY"}
    env.update(MLFLOW_TRACKING_URI=tracking_uri, PYTHONPATH=ROOT)
    process = subprocess.Popen([sys.executable, "-m", "seqpipe", "serve", spec, "--port",
                                "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    try:
        line = first_line(process.stdout, 120)
        assert line, process.stderr.read() if process.poll() is not None else "no line"
        url = line.split()[-1]
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)
        yield line, url
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()


def test_seqpipe_serve_serves_a_registered_model(store, experiment, data):
    pipeline = ridge_pipeline(data)
    with mlflow.start_run():
        info = seqpipe.mlflow.log_model(pipeline, "model", registered_model_name="prices")
    X = data[0][:5]
    with serving(f"models:/prices/{info.registered_model_version}", store[0]) as (line,
                                                                                   url):
        assert line.startswith("seqpipe serving prices on http://127.0.0.1:")
        body = {"inputs": [{"name": "input", "shape": list(X.shape), "datatype": "FP64",
                            "data": X.ravel().tolist()}]}
        answer = httpx.post(f"{url}/v2/models/prices/infer", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    (output,) = answer.json()["outputs"]
    np.testing.assert_array_equal(np.reshape(output["data"], output["shape"]),
                                  pipeline.predict(X))


def test_seqpipe_serve_names_a_missing_mlflow_model_in_one_line(store):
    env = {**os.environ, "MLFLOW_TRACKING_URI": store[0], "PYTHONPATH": ROOT}
    done = subprocess.run([sys.executable, "-m", "seqpipe", "serve", "models:/nothing/1",
                           "--port", "0"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("seqpipe serve: error: cannot load the models, nothing "
                                "served: cannot read the MLflow model 'models:/nothing/1'")
