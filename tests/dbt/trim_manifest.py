"""Trim a dbt manifest to what import-dbt reads, for the committed fixtures in manifests/.

    python tests/dbt/trim_manifest.py target/manifest.json tests/dbt/manifests/NAME.json

The fixtures are tests/dbt/project parsed by older dbt releases (``dbt parse``), so that
the manifest schemas v10 and v11 stay tested where only a newer dbt is installed. The
macros, docs and lineage maps (most of the file) go; the nodes and sources stay as dbt
wrote them, without their SQL and the run-specific metadata.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

_KEPT_METADATA = ("dbt_schema_version", "dbt_version", "project_name", "adapter_type")
_DROPPED_NODE_KEYS = ("raw_code", "compiled_code", "root_path", "build_path", "created_at")


def trim(manifest: dict) -> dict:
    metadata = {k: v for k, v in manifest["metadata"].items() if k in _KEPT_METADATA}
    nodes = {
        unique_id: {k: v for k, v in node.items() if k not in _DROPPED_NODE_KEYS}
        for unique_id, node in manifest["nodes"].items()
    }
    sources = {
        unique_id: {k: v for k, v in source.items() if k not in _DROPPED_NODE_KEYS}
        for unique_id, source in manifest["sources"].items()
    }
    return {"metadata": metadata, "nodes": nodes, "sources": sources}


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    trimmed = trim(json.loads(source.read_text(encoding="utf-8")))
    target.write_text(json.dumps(trimmed, indent=1) + "\n", encoding="utf-8")
