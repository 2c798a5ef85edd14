"""Open Data Contract Standard (ODCS) v3: read wherever a contract is read, and written.

- :func:`is_odcs`: whether a parsed YAML document is an ODCS v3 data contract
  (``apiVersion: v3.x`` and ``kind: DataContract``);
- :mod:`.reading`: an ODCS document as one of our contracts, and what does not map;
- :mod:`.writing`: one of our contracts as an ODCS document, and what does not map;
- :mod:`.sql`: the SQL quality rules that state a row condition or a statistic;
- :mod:`.convert`: ``opsguard convert --to odcs|opsguard``.

ODCS documents are parsed with the ``open-data-contract-standard`` package's models,
imported only when an ODCS document is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def is_odcs(data: Any) -> bool:
    """Whether ``data`` (a parsed YAML document) is an ODCS v3 data contract."""
    if not isinstance(data, Mapping):
        return False
    version = str(data.get("apiVersion") or "")
    return data.get("kind") == "DataContract" and version.startswith("v3")
