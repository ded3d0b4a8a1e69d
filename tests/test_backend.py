"""Which Keras backend seqpipe runs on (seqpipe._backend): the user's choice, else JAX."""

import json
import os
import re
import subprocess
import sys
import textwrap

import keras
import pytest

from seqpipe import _backend
from seqpipe._backend import BackendChoice, choose_backend


def run_python(code, tmp_path, **env):
    """Run ``code`` in a fresh interpreter with KERAS_HOME in ``tmp_path`` and no
    KERAS_BACKEND but those in ``env``; its stdout's last line."""
    environ = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    environ.update(KERAS_HOME=str(tmp_path), **env)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environ,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


CHOSEN = """
    import os, seqpipe, keras
    from seqpipe._backend import CHOICE
    print(CHOICE, keras.config.backend(), os.environ["KERAS_BACKEND"])
"""


def test_jax_when_nothing_was_chosen_and_keras_own_config_file_is_no_choice(tmp_path):
    """Keras writes keras.json ("tensorflow") on its first import, before it reads
    KERAS_BACKEND: the second run must not read that as a choice."""
    for _ in range(2):
        assert run_python(CHOSEN, tmp_path) == "jax (seqpipe's default) jax jax"
    assert json.loads((tmp_path / "keras.json").read_text())["backend"] == "tensorflow"


def test_keras_backend_variable_and_keras_json_are_the_users_choice(tmp_path):
    assert run_python(CHOSEN, tmp_path, KERAS_BACKEND="tensorflow") == \
        "tensorflow (KERAS_BACKEND=tensorflow) tensorflow tensorflow"
    (tmp_path / "keras.json").write_text('{"backend": "tensorflow"}')
    assert run_python(CHOSEN, tmp_path) == \
        f"tensorflow (set in {tmp_path / 'keras.json'}) tensorflow tensorflow"


def test_never_switches_the_backend_of_a_process_that_imported_keras(tmp_path):
    code = """
        import os, keras
        del os.environ["KERAS_BACKEND"]
        import seqpipe
        from seqpipe._backend import CHOICE
        print(CHOICE, keras.config.backend(), os.environ["KERAS_BACKEND"])
    """
    assert run_python(code, tmp_path, KERAS_BACKEND="tensorflow") == \
        "tensorflow (Keras was imported first) tensorflow tensorflow"


def test_a_chosen_backend_not_installed_is_an_error_naming_the_package(tmp_path):
    """``sys.modules[name] = None`` is how Python's import system sees a module that is
    not installed (find_spec finds nothing, import raises ImportError)."""
    code = """
        import sys
        sys.modules["{module}"] = None
        try:
            import seqpipe
        except ImportError as error:
            print(error)
    """
    message = run_python(code.format(module="jax"), tmp_path)
    assert message == ("Keras' 'jax' backend was chosen (seqpipe's default), but jax is "
                       "not installed: pip install jax. Or choose another backend with "
                       "KERAS_BACKEND, e.g. KERAS_BACKEND=jax (seqpipe's default).")
    message = run_python(code.format(module="tensorflow"), tmp_path,
                         KERAS_BACKEND="tensorflow")
    assert "pip install tensorflow (or pip install 'seqpipe[tensorflow]')" in message


@pytest.mark.parametrize("variable, config, expected", [
    (None, None, BackendChoice("jax", "seqpipe's default")),
    ("", None, BackendChoice("jax", "seqpipe's default")),  # empty: not a choice (Keras too)
    ("torch", '{"backend": "tensorflow"}', BackendChoice("torch", "KERAS_BACKEND=torch")),
    (None, '{"backend": "numpy"}', BackendChoice("numpy", "set in {path}")),
    (None, '{"floatx": "float32"}', BackendChoice("jax", "seqpipe's default")),
    (None, "not json", BackendChoice("jax", "seqpipe's default")),
    (None, "[1]", BackendChoice("jax", "seqpipe's default")),
    # Keras' own file, but hand-edited: a choice
    (None, '{"backend": "tensorflow"}\n', BackendChoice("tensorflow", "set in {path}")),
    (None, _backend._KERAS_OWN_CONFIG, BackendChoice("jax", "seqpipe's default")),
])
def test_what_decides_before_keras_is_imported(tmp_path, monkeypatch, variable, config,
                                               expected):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    if variable is None:
        monkeypatch.delenv("KERAS_BACKEND", raising=False)
    else:
        monkeypatch.setenv("KERAS_BACKEND", variable)
    if config is not None:
        (tmp_path / "keras.json").write_text(config)
    choice = _backend._unimported_choice()
    assert choice == BackendChoice(expected.name, expected.reason.format(
        path=tmp_path / "keras.json"))


def test_keras_own_config_is_what_keras_writes(tmp_path):
    """Pinned against the file this Keras writes where none exists."""
    run_python("import keras; print(keras.config.backend())", tmp_path, KERAS_BACKEND="jax")
    assert (tmp_path / "keras.json").read_text() == _backend._KERAS_OWN_CONFIG


def test_an_unknown_backend_is_an_early_error(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "tensorfow")
    monkeypatch.delitem(sys.modules, "keras")
    with pytest.raises(ValueError, match=re.escape(
            "Keras has no backend 'tensorfow' (KERAS_BACKEND=tensorfow); choose one of "
            "'jax', 'tensorflow', 'torch', 'numpy', 'openvino'.")):
        choose_backend()


def test_in_this_process_keras_runs_on_the_choice():
    assert keras.config.backend() == _backend.CHOICE.name == os.environ["KERAS_BACKEND"]
