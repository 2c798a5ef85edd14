"""Pure evaluation: observations and a contract in, check results out. No I/O.

Every function here is deterministic given its arguments, including ``now``, so the
whole verdict can be tested without data, databases or clocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow_opsguard.anomaly.metrics import dataset_metrics, drift_metrics
from airflow_opsguard.checks.history import evaluate_history_check
from airflow_opsguard.checks.keys import FRESHNESS_KEY, check_keys
from airflow_opsguard.checks.observations import CheckObservation, Observations, ObservedColumn
from airflow_opsguard.checks.reconcile import evaluate_reconcile
from airflow_opsguard.checks.results import CheckResult, GateResult, Status, worst
from airflow_opsguard.contract.durations import format_duration
from airflow_opsguard.contract.models import (
    AllowedCheck,
    AnomalyCheck,
    Check,
    Column,
    Contract,
    ExpressionCheck,
    Freshness,
    NotAllowedCheck,
    NotNullCheck,
    PatternCheck,
    RangeCheck,
    ReconcileCheck,
    ReferenceCheck,
    RowCountChangeCheck,
    Schema,
    StatisticCheck,
    UniqueCheck,
    Volume,
)

# Which observed types satisfy a declared type. Numbers widen (a float column may hold
# whole numbers, as CSV readers infer them); nothing else does.
COMPATIBLE: dict[str, frozenset[str]] = {
    "integer": frozenset({"integer"}),
    "float": frozenset({"float", "integer", "decimal"}),
    "decimal": frozenset({"decimal", "integer"}),
    "string": frozenset({"string"}),
    "boolean": frozenset({"boolean"}),
    "date": frozenset({"date"}),
    "timestamp": frozenset({"timestamp"}),
}


def evaluate(
    contract: Contract,
    observations: Observations,
    *,
    now: datetime,
    clock: datetime | None = None,
    duration_ms: int | None = None,
) -> GateResult:
    """Judge every check of ``contract`` against ``observations`` at time ``now``.

    ``clock`` is when the data was measured (default: the wall clock at this call). It
    only bounds how far in the future the newest timestamp may be (see
    :func:`evaluate_freshness`): ``now`` may be a run's data interval end, which data
    written since then is rightly newer than.
    """
    clock = datetime.now(UTC) if clock is None else clock
    results: list[CheckResult] = []
    # History checks are judged last (in their place), once the drift scores are known.
    deferred: list[tuple[int, AnomalyCheck | RowCountChangeCheck, CheckObservation]] = []
    names = {c.name for c in observations.columns}
    metrics = dataset_metrics(observations, now)
    if contract.schema_ is not None:
        results.extend(evaluate_schema(contract.schema_, observations.columns))
    if contract.volume is not None:
        results.append(evaluate_volume(contract.volume, observations.rows))
    for key in check_keys(contract):
        observation = observations.for_check(key.key)
        if key.key == FRESHNESS_KEY:
            assert contract.freshness is not None
            if observations.rows == 0 and key.columns[0] in names:
                # No rows: the data is as stale as it gets, whatever type an empty CSV got.
                observation = CheckObservation(value=None)
            judged = evaluate_freshness(contract.freshness, observation, now, clock)
            if contract.freshness.column in contract.sensitive_columns:
                # The age is what the check measures; the newest value itself is kept out.
                metrics_kept = {k: v for k, v in judged.metrics.items() if k != "newest"}
                judged = replace(judged, metrics=metrics_kept)
            results.append(judged)
        elif key.distribution is not None:
            from airflow_opsguard.checks.distribution import evaluate_distribution

            assert contract.distribution is not None
            section = contract.distribution
            judged = evaluate_distribution(
                section, key.distribution, observation, withhold=not contract.samples
            )
            results.append(judged)
        else:
            assert key.check is not None
            if isinstance(key.check, AnomalyCheck | RowCountChangeCheck):
                deferred.append((len(results) + len(deferred), key.check, observation))
                continue
            results.append(
                evaluate_check(
                    key.check,
                    observation,
                    observations.rows or 0,
                    withhold=contract.withholds_values(key.check),
                    sensitive=contract.reads_sensitive(key.check),
                )
            )
    metrics.update(drift_metrics(results))
    for index, check, observation in deferred:
        judged = evaluate_history_check(check, observation, metrics, observations.history, now)
        results.insert(index, judged)
    # The mean of a sensitive column is its value when one row holds it: kept in the
    # history only when an anomaly check asks for it.
    asked = {c.metric_name for c in contract.all_checks if isinstance(c, AnomalyCheck)}
    withheld = {f"mean({c})" for c in contract.sensitive_columns} - asked
    metrics = {k: v for k, v in metrics.items() if k not in withheld}
    result = GateResult(
        dataset=contract.dataset,
        status=worst(r.status for r in results),
        checked_at=now,
        rows=observations.rows,
        checks=tuple(results),
        contract_fingerprint=contract.fingerprint,
        data_fingerprint=dict(observations.fingerprint),
        source=observations.source,
        duration_ms=duration_ms,
        metrics=metrics,
    )
    return withhold_samples(result, contract)


def withhold_samples(result: GateResult, contract: Contract) -> GateResult:
    """``result`` without the samples of any check on a sensitive column (of every
    check, with ``samples: false``), nor the samples its message quotes after "e.g.":
    the last guard for results judged elsewhere (GX suites), after the engines fetched
    none and the evaluation quoted none."""
    sensitive = contract.sensitive_columns
    if contract.samples and not sensitive:
        return result

    def withheld(check: CheckResult) -> bool:
        if not check.samples:
            return False
        named = {c.strip() for c in (check.column or "").split(",")}
        return not contract.samples or bool(named & sensitive)

    if not any(withheld(c) for c in result.checks):
        return result

    def without(check: CheckResult) -> CheckResult:
        message, quoted, _ = check.message.partition(", e.g. ")  # the samples, quoted
        if quoted:
            message += " (values withheld)"
        return replace(check, samples=(), message=message)

    checks = tuple(without(c) if withheld(c) else c for c in result.checks)
    return replace(result, checks=checks)


def _breach(severity: str) -> Status:
    return "warn" if severity == "warn" else "fail"


# --------------------------------------------------------------------------- schema


def _type_text(column: ObservedColumn) -> str:
    if column.type is None:
        return column.native_type
    return f"{column.type} ({column.native_type})"


def evaluate_schema(schema: Schema, columns: Sequence[ObservedColumn]) -> list[CheckResult]:
    """One result per declared column, then extra columns, then order when asked."""
    observed = {c.name: c for c in columns}
    declared = {c.name for c in schema.columns}
    extras = [c for c in columns if c.name not in declared]
    results = [_schema_column(col, observed, extras, schema.severity) for col in schema.columns]
    if schema.extra_columns != "allow":
        results.append(_extra_columns(extras, schema))
    if schema.ordered:
        results.append(_column_order(schema, columns))
    return results


def _schema_column(
    column: Column,
    observed: dict[str, ObservedColumn],
    extras: list[ObservedColumn],
    severity: str,
) -> CheckResult:
    name = f"schema({column.name})"
    expected = column.type or "present"
    found = observed.get(column.name)
    if found is None:
        hint = ""
        if not observed:
            hint = " (the data has no columns at all)"
        else:
            same = [e for e in extras if column.type is None or e.type == column.type]
            if len(same) == 1:
                hint = f"; a column {same[0].name!r} of the same type is new: renamed?"
        return CheckResult(
            name=name,
            type="schema",
            column=column.name,
            status=_breach(severity),
            severity=severity,
            observed="missing",
            expected=expected,
            message=f"column {column.name!r} is missing{hint}",
        )
    if column.type is not None and found.type not in COMPATIBLE[column.type]:
        return CheckResult(
            name=name,
            type="schema",
            column=column.name,
            status=_breach(severity),
            severity=severity,
            observed=_type_text(found),
            expected=column.type,
            message=f"column {column.name!r} is {_type_text(found)}; "
            f"the contract expects {column.type}",
        )
    return CheckResult(
        name=name,
        type="schema",
        column=column.name,
        status="pass",
        severity=severity,
        observed=_type_text(found),
        expected=expected,
        message=f"column {column.name!r} is {_type_text(found)}",
    )


def _extra_columns(extras: list[ObservedColumn], schema: Schema) -> CheckResult:
    names = [c.name for c in extras]
    severity = "warn" if schema.extra_columns == "warn" else schema.severity
    if not names:
        return CheckResult(
            name="schema(extra columns)",
            type="schema",
            status="pass",
            severity=severity,
            observed="none",
            expected="none",
            message="no columns beyond the contract's",
        )
    listed = ", ".join(repr(n) for n in names)
    return CheckResult(
        name="schema(extra columns)",
        type="schema",
        status=_breach(severity),
        severity=severity,
        observed=", ".join(names),
        expected="none",
        message=f"{len(names)} column{'s' if len(names) > 1 else ''} not in the contract: {listed}",
    )


def _column_order(schema: Schema, columns: Sequence[ObservedColumn]) -> CheckResult:
    expected = [c.name for c in schema.columns]
    present = [c.name for c in columns if c.name in set(expected)]
    wanted = [n for n in expected if n in set(present)]
    ok = present == wanted and len(present) == len(expected)
    return CheckResult(
        name="schema(column order)",
        type="schema",
        status="pass" if ok else _breach(schema.severity),
        severity=schema.severity,
        observed=", ".join(c.name for c in columns),
        expected=", ".join(expected),
        message="columns are in the contract's order"
        if ok
        else "columns are not in the contract's order",
    )


# --------------------------------------------------------------------------- volume


def evaluate_volume(volume: Volume, rows: int | None) -> CheckResult:
    if volume.min_rows is not None and volume.max_rows is not None:
        expected = f"between {volume.min_rows:,} and {volume.max_rows:,}"
    else:
        expected = _between_text(volume.min_rows, volume.max_rows, False, False)
    if rows is None:
        return CheckResult(
            name="volume",
            type="volume",
            status="error",
            severity=volume.severity,
            expected=expected,
            message="the row count could not be measured",
        )
    too_few = volume.min_rows is not None and rows < volume.min_rows
    too_many = volume.max_rows is not None and rows > volume.max_rows
    if too_few or too_many:
        limit = volume.min_rows if too_few else volume.max_rows
        word = "fewer" if too_few else "more"
        message = f"{rows:,} rows, {word} than the {limit:,} the contract allows"
        status = _breach(volume.severity)
    else:
        message = f"{rows:,} rows"
        status = "pass"
    return CheckResult(
        name="volume",
        type="volume",
        status=status,
        severity=volume.severity,
        observed=rows,
        expected=expected,
        message=message,
    )


# --------------------------------------------------------------------------- freshness


def as_utc(value: datetime | date) -> datetime:
    """A date or timestamp as an aware UTC datetime; naive timestamps are UTC, and a date
    stands for its first instant."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def evaluate_freshness(
    freshness: Freshness,
    observation: CheckObservation,
    now: datetime,
    clock: datetime | None = None,
) -> CheckResult:
    """The age of the newest value at ``now`` against the contract's limits.

    A newest value in the future is fine within ``freshness.future_tolerance`` (clocks
    disagree a little); beyond it the column holds a bad timestamp (a 9999-12-31 row, a
    local time read as UTC), which would hide the age of every other row: the check
    fails and says so. The future is measured from the later of ``now`` and ``clock``
    (when the data was measured; default ``now``), so that a run judged at its data
    interval end still accepts data written after that end.
    """
    base: dict[str, Any] = {
        "name": f"freshness({freshness.column})",
        "type": "freshness",
        "column": freshness.column,
        "severity": freshness.severity,
    }
    limit = freshness.fail_after or freshness.warn_after
    assert limit is not None
    if observation.error:
        return CheckResult(
            **base,
            status="error",
            expected=f"< {format_duration(limit)}",
            message=observation.error,
        )
    newest = observation.value
    if newest is None:
        return CheckResult(
            **base,
            status=_breach(freshness.severity),
            observed="no values",
            expected=f"< {format_duration(limit)}",
            message=f"{freshness.column} has no values, so the data's age is unknown",
        )
    newest_utc, now_utc = as_utc(newest), as_utc(now)
    age = now_utc - newest_utc
    metrics = {"newest": newest_utc.isoformat(), "age_seconds": age.total_seconds()}
    ahead = newest_utc - max(now_utc, as_utc(clock or now))
    tolerance = freshness.future_tolerance
    if ahead > tolerance:
        return CheckResult(
            **base,
            status=_breach(freshness.severity),
            observed=f"{format_duration(ahead)} in the future",
            expected=f"< {format_duration(limit)}, and not after now + "
            f"{format_duration(tolerance)}",
            message=f"newest {freshness.column} is {format_duration(ahead)} in the future "
            f"(beyond the {format_duration(tolerance)} clock-skew allowance): the column "
            "holds a bad timestamp",
            metrics=metrics,
        )
    if freshness.fail_after is not None and age > freshness.fail_after:
        status, allowed = _breach(freshness.severity), freshness.fail_after
    elif freshness.warn_after is not None and age > freshness.warn_after:
        status, allowed = "warn", freshness.warn_after
    else:
        status, allowed = "pass", limit
    if age < timedelta(0):
        text = f"newest {freshness.column} is {format_duration(-age)} in the future"
    else:
        text = f"newest {freshness.column} is {format_duration(age)} old"
    return CheckResult(
        **base,
        status=status,
        observed=format_duration(age),
        expected=f"< {format_duration(allowed)}",
        message=f"{text}; the contract allows {format_duration(allowed)}",
        metrics=metrics,
    )


# --------------------------------------------------------------------------- column checks


def passes_mostly(considered: int, failing: int, mostly: float | None) -> bool:
    """Great Expectations' rule: with ``mostly``, at least that fraction of the values
    considered must pass; without it, none may fail. No values: nothing fails."""
    if failing <= 0:
        return True
    if mostly is None or considered <= 0:
        return False
    return (considered - failing) / considered >= mostly


def evaluate_check(
    check: Check,
    observation: CheckObservation,
    rows: int,
    *,
    withhold: bool = False,
    sensitive: bool = False,
) -> CheckResult:
    """The result of a row, table or relation check. ``withhold`` (a sensitive column, or
    ``samples: false``): no failing value is kept, in samples, message or metrics.
    ``sensitive``: the check reads a sensitive column, whose statistics other than
    counts (a min or max is one of its values) are withheld as well."""
    if isinstance(check, StatisticCheck):
        return _statistic(check, observation, sensitive=sensitive)
    if isinstance(check, ReconcileCheck):
        judged = evaluate_reconcile(check, observation)
        return _reconcile_withheld(check, judged) if sensitive else judged
    base: dict[str, Any] = {
        "name": check.display_name,
        "type": check.type,
        "column": ", ".join(check.columns) or None,
        "severity": check.severity,
        "mostly": check.mostly,
    }
    expected = _expected_text(check)
    if observation.error:
        message = observation.error
        if isinstance(check, ExpressionCheck):
            message = f"expression {check.expression!r} {message}"
        return CheckResult(**base, status="error", expected=expected, message=message)
    considered = observation.considered or 0
    failing = observation.failing or 0
    fraction = failing / considered if considered else 0.0
    ok = passes_mostly(considered, failing, check.mostly)
    metrics: dict[str, Any] = {"considered": considered}
    if isinstance(check, RangeCheck) and not withhold:
        metrics.update(min=observation.minimum, max=observation.maximum)
    samples = () if withhold else tuple(observation.samples)
    message = _row_message(check, failing, considered, fraction, samples, ok)
    if observation.proof:  # the database enforces it: nothing was scanned for it
        message = (
            f"{_expected_text(check)}: proven by the {observation.proof} "
            f"({considered:,} rows), not scanned"
        )
        metrics["proven_by"] = observation.proof
    if withhold and failing and not isinstance(check, NotNullCheck):
        message += " (values withheld)"
    return CheckResult(
        **base,
        status="pass" if ok else _breach(check.severity),
        observed=failing,
        expected=0 if check.mostly is None else f"<= {1 - check.mostly:.4g} of values",
        message=message,
        failing_count=failing,
        failing_fraction=round(fraction, 6),
        samples=samples,
        metrics=metrics,
    )


def _row_message(
    check: Check,
    failing: int,
    considered: int,
    fraction: float,
    samples: Sequence[Any],
    ok: bool,
) -> str:
    column = ", ".join(check.columns)
    what = {
        "not_null": f"null in {column}",
        "unique": f"sharing their {column} with another row",
        "range": f"of {column} outside {_expected_text(check)}",
        "allowed": f"of {column} not in {_expected_text(check)}",
        "not_allowed": f"of {column} in the forbidden set {_expected_text(check)}",
        "pattern": f"of {column} not matching {_expected_text(check)}",
        "length": f"of {column} with a length outside {_expected_text(check)}",
        "expression": f"where {_expected_text(check)} is not true",
        "reference": f"of {column} not found in {_expected_text(check)}",
    }[check.type]
    unit = "rows" if check.type in ("not_null", "unique", "expression") else "values"
    if failing == 0:
        return f"no {unit} {what} ({considered:,} checked)"
    text = f"{failing:,} of {considered:,} {unit} {what} ({fraction:.2%})"
    if samples:
        text += ", e.g. " + ", ".join(_sample_text(s) for s in samples[:3])
    if ok and check.mostly is not None:
        text += f"; within mostly={check.mostly}"
    return text


def _sample_text(value: Any) -> str:
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={v!r}" for k, v in value.items()) + ")"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return repr(value)


def _expected_text(check: Check) -> str:
    if isinstance(check, NotNullCheck):
        return "no nulls"
    if isinstance(check, UniqueCheck):
        return "unique"
    if isinstance(check, RangeCheck | StatisticCheck):
        return _between_text(check.min, check.max, check.strict_min, check.strict_max)
    if isinstance(check, AllowedCheck | NotAllowedCheck):
        shown = ", ".join(repr(v) for v in check.values[:10])
        more = f", ... ({len(check.values)} values)" if len(check.values) > 10 else ""
        return "{" + shown + more + "}"
    if isinstance(check, PatternCheck):
        return f"/{check.pattern}/"
    if isinstance(check, ExpressionCheck):
        return check.expression
    if isinstance(check, ReferenceCheck):
        return f"{check.to.shown}.{check.to.column}"
    if isinstance(check, ReconcileCheck):
        return check.display_name  # judged by airflow_opsguard.checks.reconcile
    if isinstance(check, AnomalyCheck | RowCountChangeCheck):
        return check.display_name  # judged by airflow_opsguard.checks.history, not here
    return _between_text(check.min_length, check.max_length, False, False)


def _between_text(low: Any, high: Any, strict_low: bool, strict_high: bool) -> str:
    def show(v: Any) -> str:
        return v.isoformat() if isinstance(v, date) else str(v)

    if low is not None and high is not None:
        return f"{'(' if strict_low else '['}{show(low)}, {show(high)}{')' if strict_high else ']'}"
    if low is not None:
        return f"{'>' if strict_low else '>='} {show(low)}"
    return f"{'<' if strict_high else '<='} {show(high)}"


def _above(a: Any, b: Any, strict: bool) -> bool:
    """``a > b`` (or ``>=``); instants compare in UTC when either side is a timestamp,
    a date standing for its first instant."""
    both_temporal = isinstance(a, date) and isinstance(b, date)  # datetime is a date too
    if both_temporal and (isinstance(a, datetime) or isinstance(b, datetime)):
        a, b = as_utc(a), as_utc(b)
    return bool(a > b if strict else a >= b)


# Statistics that are one of the column's values, or computed from a few of them.
_VALUE_STATISTICS = frozenset({"min", "max", "mean", "sum"})


def _statistic(
    check: StatisticCheck, observation: CheckObservation, *, sensitive: bool = False
) -> CheckResult:
    expected = _between_text(check.min, check.max, check.strict_min, check.strict_max)
    base: dict[str, Any] = {
        "name": check.display_name,
        "type": "statistic",
        "column": check.column,
        "severity": check.severity,
        "expected": expected,
    }
    if observation.error:
        return CheckResult(**base, status="error", message=observation.error)
    value = observation.value
    if value is None:
        return CheckResult(
            **base,
            status=_breach(check.severity),
            observed=None,
            message=f"{check.statistic} of {check.column} is undefined: the column has no values",
        )
    low_ok = check.min is None or _above(value, check.min, check.strict_min)
    high_ok = check.max is None or _above(check.max, value, check.strict_max)
    ok = low_ok and high_ok
    if sensitive and check.statistic in _VALUE_STATISTICS:
        return CheckResult(
            **base,
            status="pass" if ok else _breach(check.severity),
            observed=None,
            message=f"{check.statistic} of {check.column} is "
            + (f"within {expected}" if ok else f"outside {expected}")
            + " (the value is withheld: the column is sensitive)",
            metrics={"considered": observation.considered},
        )
    shown = _sample_text(value) if isinstance(value, date) else value
    return CheckResult(
        **base,
        status="pass" if ok else _breach(check.severity),
        observed=value,
        message=f"{check.statistic} of {check.column} is {shown}"
        + ("" if ok else f", outside {expected}"),
        metrics={"considered": observation.considered},
    )


def _reconcile_withheld(check: ReconcileCheck, judged: CheckResult) -> CheckResult:
    """A reconcile result on a sensitive column: whether the aggregates agree, without
    them (a min or max is one of the column's values); a count stays."""
    if check.metric == "count" or judged.status == "error":
        return judged
    agree = "agrees" if judged.status == "pass" else "does not agree"
    return replace(
        judged,
        observed=None,
        expected=None,
        metrics={},
        message=f"{check.metric} of {check.column} {agree} with the other table's "
        f"{check.other_column} (the values are withheld: the column is sensitive)",
    )
