"""Every public name has a page in the API reference and an Examples section.

The public modules are :mod:`seqpipe`, each of its subpackages and each of its
top-level modules whose name has no leading underscore; :mod:`seqpipe.cli` is left out
(the command line has its own page, generated from its parsers, and nothing imports
it). A subpackage's public names are those of its ``__init__``'s ``__all__``. Every
name of every public module's ``__all__`` must be listed in an ``autosummary`` table
of ``docs/api/*.rst`` (which gives it its own page), and every class and function
among them must have a numpydoc ``Examples`` section in its docstring.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import seqpipe

API_DOCS = Path(__file__).resolve().parents[1] / "docs" / "api"


def public_modules() -> list[str]:
    """``seqpipe``, its subpackages and its top-level modules, except ``cli``."""
    names = ["seqpipe"]
    for info in pkgutil.iter_modules(seqpipe.__path__):
        if not info.name.startswith("_") and info.name != "cli":
            names.append(f"seqpipe.{info.name}")
    return names


def public_names() -> list[tuple[str, str]]:
    """``(module, name)`` for every name in a public module's ``__all__``."""
    pairs = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        assert hasattr(module, "__all__"), f"{module_name} has no __all__"
        pairs += [(module_name, name) for name in module.__all__]
    return pairs


def documented_names(api_docs: Path = API_DOCS) -> set[str]:
    """Dotted names listed in the ``autosummary`` tables (with ``:toctree:``) of the
    reference's pages, each resolved against the page's ``currentmodule``."""
    names = set()
    for page in sorted(api_docs.glob("*.rst")):
        module = None
        in_table = False
        for line in page.read_text().splitlines():
            if match := re.match(r"\.\. currentmodule:: (\S+)", line):
                module, in_table = match[1], False
            elif line.startswith(".. autosummary::"):
                in_table = True
                has_toctree = False
            elif in_table and line.strip().startswith(":toctree:"):
                has_toctree = True
            elif in_table and line.strip() and not line.strip().startswith(":"):
                if not line.startswith("   "):
                    in_table = False
                elif has_toctree:
                    names.add(f"{module}.{line.strip()}")
    return names


def key(module_name: str, name: str) -> str:
    """Where a name is defined (so a re-export and its original count as one)."""
    obj = getattr(importlib.import_module(module_name), name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return f"{obj.__module__}.{obj.__qualname__}"
    return f"{module_name}.{name}"


def has_examples_section(obj: object) -> bool:
    """A numpydoc ``Examples`` section holding at least one doctest."""
    doc = inspect.getdoc(obj) or ""
    match = re.search(r"^Examples\n-{8,}\n(.*?)(?:^\S[^\n]*\n-{3,}\n|\Z)", doc, re.S | re.M)
    return bool(match) and ">>>" in match[1]


def test_public_modules_are_found():
    modules = public_modules()
    assert {"seqpipe", "seqpipe.steps", "seqpipe.search", "seqpipe.forecasting",
            "seqpipe.serving", "seqpipe.persistence"} <= set(modules)
    assert "seqpipe.cli" not in modules and "seqpipe._validation" not in modules


def test_every_public_name_has_a_page_in_the_reference():
    documented = {key(*name.rsplit(".", 1)) for name in documented_names()}
    missing = sorted(f"{module}.{name}" for module, name in public_names()
                     if key(module, name) not in documented)
    assert not missing, f"no page in docs/api/*.rst for: {missing}"


def test_every_reference_entry_exists():
    for dotted in sorted(documented_names()):
        module, name = dotted.rsplit(".", 1)
        assert hasattr(importlib.import_module(module), name), dotted


def public_callables() -> list[tuple[str, str]]:
    """The public classes and functions (data constants are documented by their page,
    having no docstring of their own)."""
    return [(module, name) for module, name in public_names()
            if inspect.isclass(obj := getattr(importlib.import_module(module), name))
            or callable(obj)]


@pytest.mark.parametrize(("module", "name"), public_callables(),
                         ids=[f"{m}.{n}" for m, n in public_callables()])
def test_every_public_class_and_function_has_an_examples_section(module, name):
    obj = getattr(importlib.import_module(module), name)
    assert has_examples_section(obj), f"{module}.{name}'s docstring has no Examples section"


def test_the_checks_catch_what_they_look_for(tmp_path):
    def documented():
        """Summary.

        Examples
        --------
        >>> 1 + 1
        2
        """

    def undocumented():
        """Summary.

        Examples
        --------
        None yet.

        Notes
        -----
        >>> 1
        1
        """

    assert has_examples_section(documented)
    assert not has_examples_section(undocumented)
    page = tmp_path / "page.rst"
    page.write_text(".. currentmodule:: seqpipe\n\n.. autosummary::\n   :toctree: generated/\n"
                    "\n   Pipeline\n\nText.\n\n.. autosummary::\n\n   save\n")
    assert documented_names(tmp_path) == {"seqpipe.Pipeline"}
