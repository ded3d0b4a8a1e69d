"""The ``seqpipe`` command's argparse parsers, for sphinx-argparse (docs/guide/cli.rst).

The page is generated from the parsers the command itself uses, so it cannot drift.
"""

from __future__ import annotations

import argparse


def seqpipe_parser() -> argparse.ArgumentParser:
    """``seqpipe`` and its ``list``, ``run`` and ``predict`` subcommands."""
    from seqpipe.cli import build_parser

    return build_parser()[0]


def search_parser() -> argparse.ArgumentParser:
    """``seqpipe search``."""
    from seqpipe.cli.search import _parser

    return _parser("seqpipe search")


def serve_parser() -> argparse.ArgumentParser:
    """``seqpipe serve``."""
    from seqpipe.cli.serve import build_parser

    return build_parser("seqpipe serve")
