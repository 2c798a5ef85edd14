"""Draft a contract from data: open it once through the engines (DuckDB for files and
frames, SQL for databases), measure it, decide the rules, write them as commented YAML."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from airflow_opsguard.drafting.facts import gather_facts
from airflow_opsguard.drafting.rules import column_rules, freshness_rule, volume_rule
from airflow_opsguard.drafting.writer import DraftParts, write_draft
from airflow_opsguard.errors import OpsGuardError

if TYPE_CHECKING:
    from airflow_opsguard.drift.profile import Profile
    from airflow_opsguard.engines.sources import Source


@dataclass(frozen=True)
class Draft:
    """A drafted contract: its YAML text, and the profile of the data that its
    ``distribution.reference`` names (None without drift columns or a reference path)."""

    text: str
    profile: Profile | None
    reference: str | None

    def write(self, out: str | os.PathLike[str]) -> None:
        """Write the contract to ``out`` and its reference profile next to it."""
        target = os.fspath(out)
        try:
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            if self.profile is not None and self.reference is not None:
                folder = os.path.dirname(target)
                self.profile.write(os.path.join(folder, self.reference), indent=2)
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(self.text)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OpsGuardError(f"{target}: cannot write the draft: {reason}") from None


def draft(
    data: Any,
    table: str | None = None,
    *,
    dataset: str | None = None,
    out: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    file_format: str | None = None,
) -> Draft:
    """Draft a contract for ``data``: a path, folder, glob or fsspec URL, a pandas
    DataFrame or Arrow table, or a database URL or engine with ``table``.

    ``out`` is where the contract will be written: its source path is written relative
    to that file's folder (as contracts read it), and the data's profile, the first
    drift reference, is named ``<out stem>.profile.json`` next to it. Without ``out``
    the draft has no distribution section. ``now`` (default: the clock) decides only
    whether the data is fresh enough for the freshness rule to hold on it.
    Raises :class:`~airflow_opsguard.errors.DataSourceError` when the data cannot be read.
    """
    from airflow_opsguard.engines.profiler import open_source, profile_opened
    from airflow_opsguard.engines.sources import resolve_source

    moment = datetime.now(UTC) if now is None else _utc(now)
    with open_source(data, table, file_format) as opened:
        resolved = resolve_source(None, data, table)
        facts = gather_facts(opened)
        columns = tuple(column_rules(c, facts.rows) for c in facts.columns)
        drift = tuple(r.facts.name for r in columns if r.drifts)
        reference = reference_name(out) if out and drift else None
        profile = profile_opened(opened, drift, now=moment) if reference else None
    source, note = _source_section(resolved, out, file_format)
    parts = DraftParts(
        dataset=dataset or _dataset_name(data, table),
        described=facts.source,
        rows=facts.rows,
        source=source,
        source_note=note,
        columns=columns,
        freshness=freshness_rule(facts, moment),
        volume=volume_rule(facts.rows),
        reference=reference,
        drift_columns=drift,
    )
    return Draft(text=write_draft(parts), profile=profile, reference=reference)


def draft_contract(
    data: Any,
    table: str | None = None,
    *,
    dataset: str | None = None,
    out: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    file_format: str | None = None,
) -> str:
    """The YAML text of a contract drafted from ``data`` (see :func:`draft`). With
    ``out``, the contract and its reference profile are also written there."""
    drafted = draft(data, table, dataset=dataset, out=out, now=now, file_format=file_format)
    if out is not None:
        drafted.write(out)
    return drafted.text


def reference_name(out: str | os.PathLike[str]) -> str:
    """The file name of the reference profile written next to the contract ``out``."""
    return f"{PurePath(os.fspath(out)).stem}.profile.json"


def _utc(moment: datetime) -> datetime:
    """An aware moment in UTC; a naive one is taken as UTC, as ``--now`` is."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _source_section(
    resolved: Source, out: str | os.PathLike[str] | None, file_format: str | None
) -> tuple[dict[str, str] | None, str | None]:
    from airflow_opsguard.engines.sources import DatabaseSource, FileSource

    if isinstance(resolved, FileSource):
        section = {"path": resolved.location}
        note = None
        if out is not None and "://" not in resolved.location:
            folder = os.path.dirname(os.path.abspath(os.fspath(out)))
            section["path"] = os.path.relpath(os.path.abspath(resolved.location), folder)
            note = "Relative paths are read from this file's folder."
        if file_format:
            section["format"] = file_format
        if resolved.conn_id:  # the storage connection that read the URL
            section["conn_id"] = resolved.conn_id
        return section, note
    if isinstance(resolved, DatabaseSource):
        if resolved.url is not None:
            return _database_section(resolved, out)
        return None, (
            f"No source: drafted through an engine; give url (or conn_id) and "
            f"table: {resolved.table} for the contract to name its data."
        )
    return None, "No source: drafted from data in memory; a gate's `data=` names it."


def _database_section(
    source: Any, out: str | os.PathLike[str] | None
) -> tuple[dict[str, str], str | None]:
    from airflow_opsguard.engines.connections import normalise_url

    url = normalise_url(source.url)
    note = None
    if url.password:
        url = sa.URL.create(
            url.drivername, url.username, None, url.host, url.port, url.database, url.query
        )
        note = "The password is left out: give it through conn_id or the URL in a secret."
    database = url.database or ""
    if (
        url.get_backend_name() == "sqlite"
        and out is not None
        and database not in ("", ":memory:")
        and not database.startswith("file:")
    ):
        folder = os.path.dirname(os.path.abspath(os.fspath(out)))
        url = url.set(database=os.path.relpath(os.path.abspath(database), folder))
        note = "A relative SQLite file is read from this file's folder."
    return {"url": url.render_as_string(hide_password=False), "table": source.table}, note


def _dataset_name(data: Any, table: str | None) -> str:
    if table:
        return table.rsplit(".", 1)[-1]
    if isinstance(data, str | os.PathLike):
        # A glob is named by the folder before its first wildcard, a file by its stem.
        text = os.fspath(data).rstrip("/")
        if "*" in text:
            before = text.split("*", 1)[0]
            text = before.rsplit("/", 1)[0] if "/" in before else ""
        return PurePath(text).name.split(".", 1)[0] or "dataset"
    return "dataset"
