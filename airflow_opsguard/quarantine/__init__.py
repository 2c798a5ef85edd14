"""Quarantine and write-audit-publish: bad data set aside, good data through, nothing lost.

``gate`` acts on a verdict (publish, quarantine, split rows); ``files`` and ``sql`` move
the data; ``rows`` says which rows are bad; ``records`` keeps the store's records;
``service`` is the public API for the CLI and the UI (list, show, release, drop).
No Airflow here.
"""

from __future__ import annotations

from airflow_opsguard.quarantine.records import QuarantineRecord, batch_id_for

__all__ = ["QuarantineRecord", "batch_id_for"]
