"""Where a path that a contract names points: the one rule, used by every reader.

A relative path in a contract (``source.path``, ``distribution.reference``, a
``gx_suite``, a reference or reconcile ``to.path``, a SQLite file in ``source.url``) is
read from the contract file's folder, so a contract means the same data whatever the
working directory (an Airflow worker's is not yours). URLs and absolute paths stay as
they are; so does everything in a contract that was not read from a file.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_opsguard.contract.models import Contract


def relative_to_contract(contract: Contract | None, path: str) -> str:
    """``path`` as the contract means it (see the module's docstring)."""
    if "://" in path or os.path.isabs(path) or contract is None or contract.origin is None:
        return path
    return os.path.normpath(os.path.join(os.path.dirname(contract.origin), path))
