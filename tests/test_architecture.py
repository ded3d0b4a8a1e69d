"""One-way imports (DESIGN.md §2) and a public, complete step protocol (items 9 and 10
of the foundations)."""

import ast
import pathlib

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin

import seqpipe.base
from seqpipe import Pipeline
from seqpipe.base import SampleMixin, StepTags, collect_history
from seqpipe.steps import MiniBatch

PACKAGE = pathlib.Path(seqpipe.__file__).parent
OPTIONAL_OR_HEAVY = ("keras", "tensorflow", "matplotlib", "optuna", "dask", "distributed",
                     "fastapi", "uvicorn", "pandas", "mlflow")


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def seqpipe_imports(path):
    """(module imported, whether the import sits inside a function) for every import of
    a seqpipe module in ``path``."""
    tree = ast.parse(path.read_text())
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                names = [child.module] + [f"{child.module}.{a.name}" for a in child.names]
                found.extend((name, nested) for name in names)
            elif isinstance(child, ast.Import):
                found.extend((a.name, nested) for a in child.names)
            visit(child, nested)

    visit(tree, False)
    return found


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def graph():
    edges = {}
    for name, path in MODULES.items():
        edges[name] = {target for target, _ in seqpipe_imports(path)
                       if target in MODULES and target != name}
    return edges


def test_no_import_cycle():
    edges, state, cycles = graph(), {}, []

    def visit(node, stack):
        state[node] = "open"
        for target in edges[node]:
            if state.get(target) == "open":
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for node in edges:
        if node not in state:
            visit(node, [node])
    assert cycles == []


def top_level_imports(name):
    return {target for target, in_function in seqpipe_imports(MODULES[name])
            if not in_function}


def is_heavy(name, seen=()):
    """Whether importing seqpipe module ``name`` imports an optional or heavy dependency."""
    targets = top_level_imports(name)
    if any(t.split(".")[0] in OPTIONAL_OR_HEAVY for t in targets):
        return True
    return any(is_heavy(t, (*seen, name)) for t in targets
               if t in MODULES and t != name and t not in seen)


def test_no_seqpipe_import_hidden_in_a_function_unless_it_is_heavy():
    hidden = [(name, target) for name, path in MODULES.items()
              for target, in_function in seqpipe_imports(path)
              if in_function and target in MODULES and not is_heavy(target)]
    assert hidden == []


# the modules of the step protocol, seqpipe.base (a package since its split)
BASE = {name for name in MODULES if name.startswith("seqpipe.base.")}


@pytest.mark.parametrize("core, allowed", [
    ("seqpipe.base", BASE),
    *((name, BASE) for name in sorted(BASE)),
    ("seqpipe._validation", set()),
    ("seqpipe._time_split", set()),
    ("seqpipe._composition", {"seqpipe.base"}),
    ("seqpipe.pipeline", {"seqpipe.base", "seqpipe._composition", "seqpipe.scoring",
                          "seqpipe._validation"}),
])
def test_the_core_imports_only_the_core(core, allowed):
    assert graph()[core] - allowed == set()


def test_steps_never_import_what_stands_on_them():
    above = ("seqpipe.pipelines", "seqpipe.search", "seqpipe.serving", "seqpipe.cli",
             "seqpipe.streaming", "seqpipe.forecasting")
    for name, targets in graph().items():
        if name.startswith("seqpipe.steps"):
            assert not {t for t in targets if t.startswith(above)}, name


def test_only_the_command_line_knows_the_command_line():
    """Nothing imports seqpipe.cli but itself (and ``python -m seqpipe``), and no module
    outside it parses arguments (DESIGN.md §2)."""
    for name, path in MODULES.items():
        if name.startswith("seqpipe.cli") or name == "seqpipe.__main__":
            continue
        imported = {target for target, _ in seqpipe_imports(path)}
        assert not {t for t in imported if t.startswith("seqpipe.cli")}, name
        assert "argparse" not in imported, name


CORE = ("seqpipe.base", *sorted(BASE), "seqpipe._validation", "seqpipe._composition",
        "seqpipe.pipeline", "seqpipe.scoring")


def test_every_hook_seqpipe_looks_for_is_documented_in_base():
    """Any name the core and the steps look up on a step with getattr/hasattr appears in
    base's page."""
    looked_up = set()
    protocol_users = [path for name, path in MODULES.items() if name in CORE
                      or name.startswith("seqpipe.steps")]
    for path in protocol_users:
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant)
                    and isinstance(node.args[1].value, str)):
                looked_up.add(node.args[1].value)
    private = {n for n in looked_up if n.startswith("_")}
    fitted = {n for n in looked_up if n.endswith("_") and n != "stop_training_"}
    not_hooks = {"fit", "fit_transform", "transform", "predict", "predict_proba", "score",
                 "get_params", "name",  # scikit-learn's API
                 "to_numpy", "index", "is_monotonic_increasing",  # pandas objects
                 "input_shape"}  # a Keras model's
    hooks = looked_up - private - fitted - not_hooks
    documented = seqpipe.base.__doc__
    assert {hook for hook in hooks if f"``{hook}" not in documented} == set()
    assert {"partial_fit_batches", "get_training_state", "record",
            "end_training"} <= hooks


# ------------------------------------------------------------------ a user's own step
class Doubler(SampleMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """A user's samplewise step: doubles X; counts how many rows each call sees."""

    def fit_resample(self, X, y=None):
        self.n_features_in_ = np.shape(X)[-1]
        return self.resample(X, y)

    def transform(self, X):
        self.__dict__.setdefault("calls_", []).append(len(X))
        return np.asarray(X) * 2.0

    def __seqpipe_tags__(self):
        return StepTags(keeps_samples=True, samplewise=self.declare)

    declare = True


class Mean(RegressorMixin, BaseEstimator):
    def partial_fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def fit(self, X, y):
        return self.partial_fit(X, y)

    def predict(self, X):
        return np.full(len(X), self.mean_)


@pytest.mark.parametrize("declare, calls", [(True, [100]), (False, [30, 30, 30, 10])])
def test_a_users_step_opts_in_to_the_fused_pass_with_a_tag(declare, calls):
    X = np.random.default_rng(0).normal(size=(100, 2))
    doubler = Doubler()
    doubler.declare = declare
    step = MiniBatch(Pipeline([doubler, Mean()]), batch_size=30).fit(X, X[:, 0])
    doubler.calls_.clear()
    step.partial_fit(X, X[:, 0])
    assert doubler.calls_ == calls


class MyRecorder(BaseEstimator):
    """A user's own recorder, found by duck type (``record`` and ``history_``)."""

    def __init__(self, name="mine"):
        self.name = name

    def fit(self, X, y):
        self.history_ = {"train": {"n": [len(X)]}, "validation": {}}
        return self

    def record(self, subset, y_true, y_pred):
        return {}

    def predict(self, X):
        return np.zeros(len(X))


def test_history_is_collected_from_any_recorder():
    X = np.zeros((7, 2))
    pipeline = Pipeline([Doubler(), MyRecorder()]).fit(X, X[:, 0])
    assert collect_history(pipeline) == {"mine": {"train": {"n": [7]}, "validation": {}}}
    assert pipeline.history_ == collect_history(pipeline)
