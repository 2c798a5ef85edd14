"""Quarantine and write-audit-publish: bad data set aside, good data through, nothing lost.

``settlement`` acts on a verdict (publish, quarantine, split rows); ``files`` and
``sql`` move the data; ``rows`` says which rows are bad; ``service`` is the public API
for the CLI and the UI (list, show, release, drop). The records are kept by the store
(:mod:`airflow_opsguard.store.quarantine`). No Airflow here. Importing the package
imports none of them (the CLI's parser reads ``STATUSES`` without SQLAlchemy).
"""

from __future__ import annotations

# What a quarantined batch can become (the records' ``status``).
STATUSES: tuple[str, ...] = ("quarantined", "released", "dropped")
