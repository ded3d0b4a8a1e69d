"""The code of the documentation's pages runs and prints what the pages show.

Every page of the user guide and the Neuraxle page writes its Python as doctest
blocks (``>>>``), which Sphinx renders with their output; this runs them, each page in
a temporary folder (pages save files), as ``--doctest-modules`` runs the docstrings'.
Python written any other way would go untested, so it is refused, except the
Neuraxle side of the Neuraxle page (a ``code-block`` captioned ``Neuraxle``: Neuraxle
no longer installs) and shell commands.
"""

from __future__ import annotations

import ast
import doctest
import re
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXAMPLES = DOCS.parent / "examples"
PAGES = sorted([*DOCS.glob("guide/*.rst"), DOCS / "neuraxle.rst"])
# Pages with no Python of their own: the guide's table of contents, the measured numbers
# (from benchmarks/), and the command
# line (generated from the argparse parsers).
NO_CODE = {"index.rst", "cli.rst", "performance.rst"}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def untested_python(text: str) -> list[str]:
    """Python blocks that are not doctests: ``code-block:: python`` (or ``::``-less
    ``code`` directives) except those captioned ``Neuraxle...``."""
    found = []
    for match in re.finditer(r"^\.\. (?:code-block|code|sourcecode):: *(python|py|pycon)?\s*\n"
                             r"((?:[ \t]+:[^\n]*\n)*)", text, re.M):
        language, options = match[1], match[2]
        if language is None and not options:
            language = "python"  # the default language of this site
        if language and not re.search(r":caption: Neuraxle", options):
            found.append(text[match.start():match.end()].splitlines()[0])
    return found


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_the_code_of_every_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    failures, attempted = doctest.testfile(str(page), module_relative=False, optionflags=FLAGS,
                                           encoding="utf-8", verbose=False, report=True)
    assert failures == 0, f"{page.name}: {failures} of {attempted} examples failed (see above)"
    if page.name not in NO_CODE:
        assert attempted > 0, f"{page.name} has no doctest: its code would go untested"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_pages_write_python_as_doctests(page):
    assert not untested_python(page.read_text()), page.name


def test_the_checks_catch_what_they_look_for(tmp_path, monkeypatch):
    assert untested_python(".. code-block:: python\n\n   x = 1\n")
    assert untested_python(".. code-block::\n\n   x = 1\n")
    assert not untested_python(".. code-block:: python\n   :caption: Neuraxle 0.8\n\n   x\n")
    assert not untested_python(".. code-block:: bash\n\n   make docs\n")
    page = tmp_path / "page.rst"
    page.write_text("Title\n=====\n\n>>> 1 + 1\n3\n")
    monkeypatch.chdir(tmp_path)
    failures, attempted = doctest.testfile(str(page), module_relative=False, optionflags=FLAGS,
                                           report=False)
    assert (failures, attempted) == (1, 1)


@pytest.mark.parametrize("script", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_every_example_can_join_the_gallery(script, monkeypatch):
    """sphinx-gallery needs a reST title (underlined at least as long as the title) and
    runs each script with ``--quick`` (or its short arguments in gallery_hooks.SHORT)."""
    monkeypatch.syspath_prepend(str(DOCS / "_ext"))
    sys.modules.pop("gallery_hooks", None)
    import gallery_hooks

    lines = (ast.get_docstring(ast.parse(script.read_text()), clean=False) or "").splitlines()
    assert len(lines) > 1 and lines[0].strip(), f"{script.name}: no docstring title"
    assert set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0]), (
        f"{script.name}: underline the docstring's first line with '=' at least as long")
    if script.stem not in gallery_hooks.SHORT:
        assert '"--quick"' in script.read_text(), f"{script.name}: no --quick mode"
