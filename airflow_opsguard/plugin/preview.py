"""The first rows of a quarantined batch, for a reviewer to look at before deciding.

Read where the batch is held (its files, or its table in the data database), through the
engines' own readers (DuckDB for files, a read-only SQL session for tables). A column the
contract marks ``sensitive: true`` shows as withheld; with ``samples: false`` no value
is shown at all. What cannot be read (a database whose password the record does not
keep, data already released or dropped) is said in one line instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from airflow_opsguard.errors import OpsGuardError
from airflow_opsguard.store.quarantine import QuarantineRecord
from airflow_opsguard.urls import mask_text

PREVIEW_ROWS = 20
WITHHELD = "•••"  # a sensitive value: the column is shown, the value never
_INTERNAL = "_opsguard_"  # the columns row quarantine adds (reasons, batch, run)


@dataclass(frozen=True)
class Preview:
    """The columns and first rows of a batch, or why there are none."""

    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    withheld: tuple[str, ...] = ()  # the sensitive columns among ``columns``
    unavailable: str | None = None


def preview(record: QuarantineRecord, limit: int = PREVIEW_ROWS) -> Preview:
    """The first ``limit`` rows of a quarantined batch, sensitive values withheld."""
    from airflow_opsguard.contract.models import Contract

    if record.status != "quarantined":
        return Preview(unavailable=f"the batch was {record.status}: nothing is held any more")
    try:
        contract = Contract.model_validate(record.details.get("contract") or {})
    except ValueError:
        return Preview(unavailable="the record keeps no readable contract")
    if not contract.samples:
        return Preview(unavailable="the contract says samples: false: no value is shown")
    try:
        columns, rows = _read(record, contract, limit)
    except OpsGuardError as exc:
        return Preview(unavailable=str(exc))
    except Exception as exc:  # a report page never fails for its preview
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return Preview(unavailable=mask_text(first)[:300])
    sensitive = contract.sensitive_columns
    keep = [i for i, name in enumerate(columns) if not name.startswith(_INTERNAL)]
    names = tuple(columns[i] for i in keep)
    shown = tuple(
        tuple(WITHHELD if columns[i] in sensitive else _text(row[i]) for i in keep) for row in rows
    )
    return Preview(names, shown, tuple(n for n in names if n in sensitive))


def _read(record: QuarantineRecord, contract: Any, limit: int) -> tuple[list[str], list[Any]]:
    from airflow_opsguard.connections import engine_for_conn_id
    from airflow_opsguard.engines.connections import using_connections
    from airflow_opsguard.engines.reading import open_source
    from airflow_opsguard.engines.sources import resolve_source

    # Through Airflow's connections: a database batch's, or the object storage's that
    # a file batch was read (and moved) through.
    with using_connections(engine_for_conn_id):
        if record.details.get("database"):
            from airflow_opsguard.quarantine import sql as qsql

            database = qsql.database_from(dict(record.details["database"]))
            with database.open() as engine:
                source = resolve_source(contract, engine, table=record.location)
                return _first_rows(open_source(source), limit)
        from airflow_opsguard.quarantine.service import held_files

        source = resolve_source(*held_files(contract, record))
        return _first_rows(open_source(source), limit)


def _first_rows(opened_source: Any, limit: int) -> tuple[list[str], list[Any]]:
    with opened_source as opened:
        try:
            result = opened.connection.execute(
                sa.select(sa.text("*")).select_from(opened.relation).limit(limit)
            )
            return list(result.keys()), list(result.all())
        except sa.exc.SQLAlchemyError as exc:
            raise opened.explain(exc) from None


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"
