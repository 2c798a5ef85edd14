"""Reads of the results store for the dashboard, limited to what a user may see.

SQLAlchemy Core over the store's own tables; request values only ever reach a query
as bound parameters. Every read takes a :class:`Scope` (the plugin works it out from
Airflow's auth manager) and keeps the rows of the DAGs it allows (the DAG is
``context.dag_id`` of a run).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from airflow_opsguard.store.tables import check_results, incidents, metrics, quarantine, runs


@dataclass(frozen=True)
class Scope:
    """The DAGs whose results a user may see (or change)."""

    dag_ids: frozenset[str] | None  # None: every DAG
    dagless: bool  # results from no DAG (the CLI): for users with access to all DAGs

    def allows(self, dag_id: str | None) -> bool:
        if dag_id is None:
            return self.dagless
        return self.dag_ids is None or dag_id in self.dag_ids


RUN_DAG = runs.c.context["dag_id"].as_string()


OPEN = ("open", "acknowledged")


def allowed(scope: Scope, dag_column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The WHERE clause that keeps the rows of the DAGs ``scope`` allows."""
    if scope.dag_ids is None:
        return sa.true() if scope.dagless else dag_column.is_not(None)
    clauses: list[sa.ColumnElement[bool]] = []
    if scope.dag_ids:
        clauses.append(dag_column.in_(sorted(scope.dag_ids)))
    if scope.dagless:
        clauses.append(dag_column.is_(None))
    return sa.or_(*clauses) if clauses else sa.false()


def dag_ids(connection: sa.Connection) -> set[str]:
    """Every DAG id the store has results or incidents of."""
    found = connection.execute(sa.select(RUN_DAG).distinct()).scalars().all()
    more = connection.execute(sa.select(incidents.c.dag_id).distinct()).scalars().all()
    held = connection.execute(sa.select(quarantine.c.dag_id).distinct()).scalars().all()
    return {d for d in (*found, *more, *held) if d}


@dataclass(frozen=True)
class LatestRun:
    dataset: str
    run_id: str
    status: str
    checked_at: Any
    runs: int
    context: dict[str, Any]


def latest_runs(
    connection: sa.Connection,
    scope: Scope,
    *,
    limit: int,
    offset: int,
    failing_first: bool = False,
    count_runs: bool = True,
) -> tuple[list[LatestRun], int]:
    """The newest visible run of each dataset (by name; ``failing_first``: failing,
    then warning, then passing datasets, each by name), and how many datasets there are.
    ``count_runs=False`` leaves each one's ``runs`` at 0 (a count reads every run of the
    dataset; the overview page does not show it)."""
    newest = newest_runs(connection, scope)
    if failing_first:
        newest.sort(key=lambda r: STATE_RANK.get(r.status, 2))  # stable: names kept
    page = newest[offset : offset + limit]
    if count_runs:
        page = [replace(r, runs=_count(connection, scope, r.dataset)) for r in page]
    return page, len(newest)


STATE_RANK = {"fail": 0, "error": 0, "warn": 1}  # failing first, then warning, then passing
# A dataset whose newest run is of a DAG the user may not read is shown when one of its
# last RECENT runs is of a DAG they may read (a bounded look, not a scan of its history).
RECENT = 200


def newest_runs(connection: sa.Connection, scope: Scope) -> list[LatestRun]:
    """Each dataset's newest visible run, by dataset name (``runs`` left at 0).

    Found through the (dataset, checked_at) index, dataset by dataset: a store of a
    year of hourly runs answers in milliseconds, where a window or a GROUP BY over
    every run takes a scan of them all. For a user who may not read every DAG, a
    dataset whose newest run is another DAG's is looked for among its last ``RECENT``
    runs."""
    columns = (runs.c.run_id, runs.c.status, runs.c.checked_at, runs.c.context)
    newest_first = (runs.c.checked_at.desc(), runs.c.run_id.desc())
    found = []
    for dataset in dataset_names(connection):
        query = sa.select(*columns).where(runs.c.dataset == dataset).order_by(*newest_first)
        row = connection.execute(query.limit(1)).first()
        if row is None:
            continue
        if not scope.allows((row.context or {}).get("dag_id")):
            recent = query.limit(RECENT).subquery()
            dag = recent.c.context["dag_id"].as_string()
            row = connection.execute(
                sa.select(recent)
                .where(allowed(scope, dag))
                .order_by(recent.c.checked_at.desc(), recent.c.run_id.desc())
                .limit(1)
            ).first()
            if row is None:
                continue
        context = dict(row.context or {})
        found.append(LatestRun(dataset, row.run_id, row.status, row.checked_at, 0, context))
    return found


def dataset_names(connection: sa.Connection) -> list[str]:
    """Every dataset with a stored run, in order: an index skip-scan (a recursive CTE
    that jumps from name to name), or MySQL's own loose index scan for DISTINCT (MySQL
    allows no subquery on a recursive CTE)."""
    if connection.dialect.name in ("mysql", "mariadb"):
        query = sa.select(runs.c.dataset).distinct().order_by(runs.c.dataset)
        return list(connection.execute(query).scalars())
    first = sa.select(sa.func.min(runs.c.dataset).label("name")).cte("names", recursive=True)
    following = (
        sa.select(sa.func.min(runs.c.dataset)).where(runs.c.dataset > first.c.name)
    ).scalar_subquery()
    names = first.union_all(sa.select(following).where(first.c.name.is_not(None)))
    query = sa.select(names.c.name).where(names.c.name.is_not(None))
    return [n for n in connection.execute(query).scalars()]


def _count(connection: sa.Connection, scope: Scope, dataset: str) -> int:
    query = sa.select(sa.func.count()).where(runs.c.dataset == dataset, allowed(scope, RUN_DAG))
    return int(connection.execute(query).scalar_one())


def recent_statuses(
    connection: sa.Connection, scope: Scope, datasets: Sequence[str], count: int
) -> dict[str, list[tuple[str, str, Any]]]:
    """The last ``count`` (run_id, status, checked_at) of each dataset, oldest first
    (one indexed query per dataset: a page holds a few dozen)."""
    found: dict[str, list[tuple[str, str, Any]]] = {}
    for dataset in datasets:
        query = (
            sa.select(runs.c.run_id, runs.c.status, runs.c.checked_at)
            .where(runs.c.dataset == dataset, allowed(scope, RUN_DAG))
            .order_by(runs.c.checked_at.desc(), runs.c.run_id.desc())
            .limit(count)
        )
        rows = connection.execute(query).all()
        found[dataset] = [(r.run_id, r.status, r.checked_at) for r in reversed(rows)]
    return found


def freshness_of(connection: sa.Connection, run_ids: Sequence[str]) -> dict[str, Any]:
    """The newest data timestamp (ISO text) that each run's freshness check saw."""
    if not run_ids:
        return {}
    query = sa.select(check_results.c.run_id, check_results.c.metrics).where(
        check_results.c.run_id.in_(list(run_ids)), check_results.c.type == "freshness"
    )
    newest: dict[str, Any] = {}
    for row in connection.execute(query):
        value = (row.metrics or {}).get("newest")
        if value and (row.run_id not in newest or str(value) < str(newest[row.run_id])):
            newest[row.run_id] = value  # several freshness checks: the stalest counts
    return newest


def open_incident_total(connection: sa.Connection, scope: Scope) -> int:
    """Open (or acknowledged) incidents of every visible dataset."""
    query = sa.select(sa.func.count()).where(
        incidents.c.status.in_(OPEN), allowed(scope, incidents.c.dag_id)
    )
    return int(connection.execute(query).scalar_one())


def failing_total(connection: sa.Connection, scope: Scope) -> int:
    """How many datasets fail (or could not be checked) in their latest visible run."""
    return sum(r.status in ("fail", "error") for r in newest_runs(connection, scope))


def open_incident_counts(
    connection: sa.Connection, scope: Scope, datasets: Sequence[str]
) -> dict[str, int]:
    if not datasets:
        return {}
    query = (
        sa.select(incidents.c.dataset, sa.func.count())
        .where(
            incidents.c.dataset.in_(list(datasets)),
            incidents.c.status.in_(OPEN),
            allowed(scope, incidents.c.dag_id),
        )
        .group_by(incidents.c.dataset)
    )
    return {row[0]: int(row[1]) for row in connection.execute(query)}


def run_rows(
    connection: sa.Connection,
    scope: Scope,
    *,
    dataset: str | None = None,
    status: str | None = None,
    limit: int,
    offset: int,
) -> tuple[list[sa.Row[Any]], int]:
    """Visible runs, newest first, and how many there are."""
    where = [allowed(scope, RUN_DAG)]
    if dataset is not None:
        where.append(runs.c.dataset == dataset)
    if status is not None:
        where.append(runs.c.status == status)
    query = (
        sa.select(runs)
        .where(*where)
        .order_by(runs.c.checked_at.desc(), runs.c.run_id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = connection.execute(
        sa.select(sa.func.count()).select_from(runs).where(*where)
    ).scalar_one()
    return list(connection.execute(query).all()), int(total)


def dataset_exists(connection: sa.Connection, dataset: str) -> bool:
    query = sa.select(runs.c.run_id).where(runs.c.dataset == dataset).limit(1)
    return connection.execute(query).first() is not None


def contract_versions(connection: sa.Connection, scope: Scope, dataset: str) -> list[sa.Row[Any]]:
    """Each contract fingerprint of a dataset: first and last seen, runs, newest first."""
    query = (
        sa.select(
            runs.c.contract_fingerprint.label("fingerprint"),
            sa.func.min(runs.c.checked_at).label("first_seen"),
            sa.func.max(runs.c.checked_at).label("last_seen"),
            sa.func.count().label("runs"),
        )
        .where(runs.c.dataset == dataset, allowed(scope, RUN_DAG))
        .group_by(runs.c.contract_fingerprint)
        .order_by(sa.func.max(runs.c.checked_at).desc())
    )
    return list(connection.execute(query).all())


def check_history(
    connection: sa.Connection, scope: Scope, dataset: str, run_ids: Sequence[str]
) -> list[sa.Row[Any]]:
    """The check rows of the given runs, oldest first (for charts)."""
    if not run_ids:
        return []
    # By run id (the primary key), not by dataset: the run ids are the dataset's, and
    # the (dataset, name, checked_at) index would read every check the dataset has.
    query = (
        sa.select(check_results)
        .where(check_results.c.run_id.in_(list(run_ids)))
        .order_by(check_results.c.checked_at, check_results.c.run_id, check_results.c.position)
    )
    return list(connection.execute(query).all())


def metric_history(
    connection: sa.Connection, dataset: str, run_ids: Sequence[str]
) -> list[sa.Row[Any]]:
    """The metric rows of the given runs, oldest first (for charts)."""
    if not run_ids:
        return []
    query = (  # by run id, as check_history
        sa.select(metrics)
        .where(metrics.c.run_id.in_(list(run_ids)))
        .order_by(metrics.c.name, metrics.c.checked_at, metrics.c.run_id)
    )
    return list(connection.execute(query).all())


def task_runs(
    connection: sa.Connection,
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    map_index: int,
    run_ids: Sequence[str] | None = None,
) -> list[sa.Row[Any]]:
    """The stored attempts of one task instance, newest first. ``run_ids``: the ids
    its attempts would have, looked up by key; without them, a scan of the runs' JSON
    context (slow on a big store)."""
    context = runs.c.context
    where = [
        dag_id == RUN_DAG,
        context["run_id"].as_string() == dag_run_id,
        context["task_id"].as_string() == task_id,
    ]
    if run_ids is not None:
        where.append(runs.c.run_id.in_(list(run_ids)))
    query: sa.Select[Any] = (
        sa.select(runs.c.run_id, runs.c.context)
        .where(*where)
        .order_by(runs.c.checked_at.desc(), runs.c.run_id.desc())
    )
    rows: list[sa.Row[Any]] = list(connection.execute(query).all())
    return [r for r in rows if int((r.context or {}).get("map_index", -1)) == map_index]


def incident_rows(
    connection: sa.Connection,
    scope: Scope,
    *,
    state: str,
    dataset: str | None,
    limit: int,
    offset: int,
) -> tuple[list[sa.Row[Any]], int]:
    """Incidents, newest first: ``open`` (open or acknowledged), ``resolved`` or ``all``."""
    where = [allowed(scope, incidents.c.dag_id)]
    if state == "open":
        where.append(incidents.c.status.in_(OPEN))
    elif state == "resolved":
        where.append(incidents.c.status == "resolved")
    if dataset is not None:
        where.append(incidents.c.dataset == dataset)
    query = (
        sa.select(incidents)
        .where(*where)
        .order_by(incidents.c.opened_at.desc(), incidents.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = connection.execute(
        sa.select(sa.func.count()).select_from(incidents).where(*where)
    ).scalar_one()
    return list(connection.execute(query).all()), int(total)


def incident_row(connection: sa.Connection, incident_id: int) -> sa.Row[Any] | None:
    query = sa.select(incidents).where(incidents.c.id == incident_id)
    return connection.execute(query).first()


def quarantine_rows(
    connection: sa.Connection,
    scope: Scope,
    *,
    status: str | None,
    dataset: str | None,
    limit: int,
    offset: int,
) -> tuple[list[sa.Row[Any]], int]:
    """Quarantine records, newest first, of one status (None: all)."""
    where = [allowed(scope, quarantine.c.dag_id)]
    if status is not None:
        where.append(quarantine.c.status == status)
    if dataset is not None:
        where.append(quarantine.c.dataset == dataset)
    query = (
        sa.select(quarantine)
        .where(*where)
        .order_by(quarantine.c.created_at.desc(), quarantine.c.batch_id.desc())
        .limit(limit)
        .offset(offset)
    )
    total = connection.execute(
        sa.select(sa.func.count()).select_from(quarantine).where(*where)
    ).scalar_one()
    return list(connection.execute(query).all()), int(total)


def quarantine_row(connection: sa.Connection, batch_id: str) -> sa.Row[Any] | None:
    query = sa.select(quarantine).where(quarantine.c.batch_id == batch_id)
    return connection.execute(query).first()


def previous_run(
    connection: sa.Connection, scope: Scope, dataset: str, checked_at: Any, run_id: str
) -> str | None:
    """The visible run of ``dataset`` just before the given one (None for its first)."""
    earlier = sa.or_(
        runs.c.checked_at < checked_at,
        sa.and_(runs.c.checked_at == checked_at, runs.c.run_id < run_id),
    )
    query = (
        sa.select(runs.c.run_id)
        .where(runs.c.dataset == dataset, earlier, allowed(scope, RUN_DAG))
        .order_by(runs.c.checked_at.desc(), runs.c.run_id.desc())
        .limit(1)
    )
    found = connection.execute(query).scalar()
    return None if found is None else str(found)


def check_statuses(connection: sa.Connection, run_id: str) -> dict[str, str]:
    """Each check of a run by name, with its status (the first of a repeated name)."""
    query = (
        sa.select(check_results.c.name, check_results.c.status)
        .where(check_results.c.run_id == run_id)
        .order_by(check_results.c.position.desc())
    )
    return {row.name: row.status for row in connection.execute(query)}


def batch_of_run(connection: sa.Connection, run_id: str) -> sa.Row[Any] | None:
    """The quarantine record a run's verdict set aside, if any."""
    query = sa.select(quarantine).where(quarantine.c.run_id == run_id).limit(1)
    return connection.execute(query).first()


def failing_checks(
    connection: sa.Connection, run_ids: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """The (name, status) of the checks that did not pass in each run, contract order."""
    if not run_ids:
        return {}
    query = (
        sa.select(check_results.c.run_id, check_results.c.name, check_results.c.status)
        .where(check_results.c.run_id.in_(list(run_ids)), check_results.c.status != "pass")
        .order_by(check_results.c.run_id, check_results.c.position)
    )
    found: dict[str, list[tuple[str, str]]] = {}
    for row in connection.execute(query):
        found.setdefault(row.run_id, []).append((row.name, row.status))
    return found


def waiting_batches(connection: sa.Connection, scope: Scope) -> dict[str, int]:
    """How many batches of each dataset wait for review."""
    query = (
        sa.select(quarantine.c.dataset, sa.func.count())
        .where(quarantine.c.status == "quarantined", allowed(scope, quarantine.c.dag_id))
        .group_by(quarantine.c.dataset)
    )
    return {row[0]: int(row[1]) for row in connection.execute(query)}
