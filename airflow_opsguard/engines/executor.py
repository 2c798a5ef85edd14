"""Run a plan on a SQLAlchemy connection and collect observations.

Shared by every engine: DuckDB for files and DataFrames, and SQL databases. One scan
computes every aggregate; uniqueness takes one GROUP BY per unique check; samples are
fetched only for checks that found failing rows, with a small LIMIT.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.selectable import FromClause

from airflow_opsguard.checks.observations import CheckObservation, Observations, ObservedColumn
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.engines.plan import ROWS_LABEL, Plan, PlannedCheck, build_plan
from airflow_opsguard.errors import DataSourceError

if TYPE_CHECKING:
    from airflow_opsguard.drift.reference import Reference

log = logging.getLogger(__name__)

DEFAULT_SAMPLE_SIZE = 5

# Errors that say the source or the server failed, not one check's SQL.
ErrorClassifier = Callable[[BaseException], DataSourceError | None]


def measure(
    connection: Connection,
    contract: Contract,
    source: FromClause,
    columns: Sequence[ObservedColumn],
    *,
    source_name: str,
    fingerprint: dict[str, Any] | None = None,
    sample_size: int = DEFAULT_SAMPLE_SIZE,
    classify_error: ErrorClassifier | None = None,
    reference: Reference | None = None,
) -> Observations:
    """Measure every check of ``contract`` on ``source``.

    A contract with a ``distribution`` section has its reference loaded here (a profile
    file, or reference data profiled now) unless ``reference`` is given.
    """
    if reference is None and contract.distribution is not None:
        from airflow_opsguard.drift.reference import load_reference

        reference = load_reference(contract)
    plan = build_plan(contract, columns, source, reference)
    mark_inexpressible(plan, connection.dialect)
    runner = _Runner(connection, plan, source_name, classify_error or (lambda exc: None))
    rows, values = runner.scan()
    observations: dict[str, CheckObservation] = {}
    metrics: dict[str, CheckObservation] = {}
    for index, planned in enumerate(plan.checks):
        target, key = (
            (observations, planned.key) if planned.metric is None else (metrics, planned.metric)
        )
        if planned.error or planned.key in runner.errors:
            error = planned.error or runner.errors[planned.key]
            target[key] = CheckObservation(error=error)
            continue
        found = {role: values[plan.label(index, role)] for role in planned.aggregates}
        target[key] = runner.observe(planned, found, sample_size)
    fingerprint = dict(fingerprint or {})
    fingerprint["rows"] = rows
    return Observations(
        source=source_name,
        rows=rows,
        columns=tuple(columns),
        checks=observations,
        fingerprint=fingerprint,
        metrics=metrics,
    )


def mark_inexpressible(plan: Plan, dialect: Dialect) -> None:
    """Plan each check the dialect cannot express (a regular expression on SQL Server) as
    an error that names the dialect and the check, so that it reports ``error`` while the
    other checks run, instead of a wrong verdict or a failed scan."""
    for planned in plan.checks:
        if planned.error:
            continue
        statements = [plan.main_select([planned]), plan.samples_select(planned, 1)]
        for statement in statements:
            if statement is None:
                continue
            try:
                statement.compile(dialect=dialect)
            except sa.exc.CompileError as exc:
                planned.error = (
                    f"not measured: the {dialect.name} dialect cannot express {planned.key} ({exc})"
                )
                break


class _Runner:
    def __init__(
        self, connection: Connection, plan: Plan, source_name: str, classify: ErrorClassifier
    ) -> None:
        self.connection = connection
        self.plan = plan
        self.source_name = source_name
        self.classify = classify
        self.errors: dict[str, str] = {}

    def execute(self, statement: Any) -> sa.CursorResult[Any]:
        try:
            return self.connection.execute(statement)
        except sa.exc.DBAPIError as exc:
            self._rollback()
            infrastructure = self.classify(exc)
            if infrastructure is not None:
                raise infrastructure from exc
            raise

    def _rollback(self) -> None:
        # PostgreSQL refuses further statements in a failed transaction.
        if self.connection.in_transaction():
            self.connection.rollback()

    def scan(self) -> tuple[int, dict[str, Any]]:
        """The main aggregate query; on an error, find the checks at fault and scan again."""
        try:
            row = self.execute(self.plan.main_select()).mappings().one()
            return int(row[ROWS_LABEL]), dict(row)
        except sa.exc.DBAPIError as exc:
            log.info("the combined scan failed (%s); measuring the checks one by one", _first(exc))
        # Does the source itself read? If not, no check can be measured.
        try:
            self.execute(sa.select(sa.func.count()).select_from(self.plan.source)).scalar_one()
        except sa.exc.DBAPIError as exc:
            raise DataSourceError(f"cannot read {self.source_name}: {_first(exc)}") from exc
        healthy: list[PlannedCheck] = []
        for planned in self.plan.checks:
            if planned.error or not planned.aggregates:
                continue
            try:
                self.execute(self.plan.main_select([planned])).one()
                healthy.append(planned)
            except sa.exc.DBAPIError as exc:
                self.errors[planned.key] = f"could not be measured: {_first(exc)}"
        row = self.execute(self.plan.main_select(healthy)).mappings().one()
        values = dict(row)
        for index, planned in enumerate(self.plan.checks):
            for role in planned.aggregates:
                values.setdefault(self.plan.label(index, role), None)
        return int(row[ROWS_LABEL]), values

    def observe(
        self, planned: PlannedCheck, found: dict[str, Any], sample_size: int
    ) -> CheckObservation:
        if planned.collect is not None:
            try:
                return planned.collect(found, lambda statement: self.execute(statement).all())
            except sa.exc.DBAPIError as exc:
                return CheckObservation(error=f"could not be measured: {_first(exc)}")
        considered = _int(found.get("considered"))
        failing = _int(found.get("failing"))
        samples: tuple[Any, ...] = ()
        try:
            if planned.duplicates is not None:
                failing = self._duplicate_rows(planned)
            if failing:
                samples = self._samples(planned, sample_size)
        except sa.exc.DBAPIError as exc:
            return CheckObservation(error=f"could not be measured: {_first(exc)}")
        return CheckObservation(
            considered=considered,
            failing=failing,
            value=found.get("value"),
            minimum=found.get("minimum"),
            maximum=found.get("maximum"),
            samples=samples,
        )

    def _duplicate_rows(self, planned: PlannedCheck) -> int:
        """Rows whose value (or combination) occurs more than once, as GX counts them."""
        assert planned.duplicates is not None
        groups = planned.duplicates.subquery()
        count = list(groups.c)[-1]  # the plan's count of rows per duplicated value
        total = sa.select(sa.func.coalesce(sa.func.sum(count), 0))
        return int(self.execute(total).scalar_one())

    def _samples(self, planned: PlannedCheck, limit: int) -> tuple[Any, ...]:
        statement = self.plan.samples_select(planned, limit)
        if statement is None:
            return ()
        if planned.duplicates is None:
            # A few more rows than needed, then distinct values in the order met: cheaper
            # than SELECT DISTINCT, which must see every failing row first.
            rows = self.execute(statement.limit(limit * 10)).all()
            distinct: dict[Any, None] = {}
            for row in rows:
                distinct.setdefault(_hashable(row[0]), None)
                if len(distinct) == limit:
                    break
            return tuple(distinct)
        rows = self.execute(statement).all()
        names = [c.name for c in planned.duplicates.selected_columns][:-1]  # drop the count
        if len(names) == 1:
            return tuple(r[0] for r in rows)
        return tuple(dict(zip(names, r[: len(names)], strict=True)) for r in rows)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _first(exc: BaseException) -> str:
    """The first line of a database error, without SQLAlchemy's SQL dump."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__
