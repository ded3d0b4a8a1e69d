"""sphinx-gallery hooks: run each example in its quick mode and show the PNGs it writes.

seqpipe draws on a matplotlib ``Figure`` with its own Agg canvas (never pyplot), and
the examples save their plots as files, so the default matplotlib scraper sees none:
``png_scraper`` picks up the PNGs an example wrote to its output folder.

sphinx-gallery runs each example from its own folder, so the output folder is given
relative to it, ``runs/NAME`` (under ``examples/``, ignored by git as every ``runs/``
is): the paths an example prints are the ones a user running it sees, not the build
machine's.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

RUNS = Path("runs")  # relative to the folder of the examples

# Arguments of the examples without a --quick flag: a short run all the same.
SHORT = {"exercise1_neuraxle_style": ["--epochs", "2"]}


def output_dir(script: str | Path) -> Path:
    """Where the example ``script`` writes its files during the build, relative to
    its folder (where sphinx-gallery runs it)."""
    return RUNS / Path(script).stem


def reset_argv(gallery_conf: dict, script_vars: dict) -> list[str]:
    """``sys.argv[1:]`` for an example: its quick mode, writing to a fresh folder."""
    src_file = Path(script_vars["src_file"])
    out = output_dir(src_file)
    # The examples read their own docstring (argparse's description); sphinx-gallery
    # shows it as text and runs the code with an empty __doc__: give it back.
    source = src_file.read_text()
    script_vars["example_globals"]["__doc__"] = ast.get_docstring(ast.parse(source))
    folder = src_file.parent / out
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return [*SHORT.get(out.name, ["--quick"]), "--output", str(out)]


def png_scraper(block, block_vars: dict, gallery_conf: dict) -> str:
    """The PNGs the example wrote since the last block, as reST images."""
    from sphinx_gallery.scrapers import figure_rst  # the docs extra: only at build time

    src_file = Path(block_vars["src_file"])
    out = src_file.parent / output_dir(src_file)
    seen = block_vars.setdefault("seqpipe_pngs_seen", set())
    new = sorted(p for p in out.rglob("*.png") if p not in seen)
    seen.update(new)
    paths = []
    for png, image_path in zip(new, block_vars["image_path_iterator"]):
        shutil.copyfile(png, image_path)
        paths.append(image_path)
    return figure_rst(paths, gallery_conf["src_dir"])
