"""The ``opsguard`` command line: one module per group of commands.

``main`` (the console script) and the parser are in :mod:`.main`; the commands' modules
import the work they call inside their functions, so that ``opsguard --help`` and a
wrong call answer without loading SQLAlchemy, pydantic or a data library.
"""

from __future__ import annotations

from airflow_opsguard.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
