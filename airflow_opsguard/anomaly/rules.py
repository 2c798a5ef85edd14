"""Judging history checks: a run's metric against the runs before it. Pure.

The history arrives in the observations (read from the results store by the validate
step); nothing here does I/O or reads a clock: ``now`` is this run's time.

Anomaly checks score the metric with a robust z-score against the median and MAD of the
last ``window`` runs. With ``weekly`` the median is that of the runs on the same weekday
and the spread that of every run around its own weekday's level (see
:func:`~airflow_opsguard.anomaly.robust.seasonal_score`). A breach is a score beyond
``threshold``. One breach warns; the check fails only when breaches pile up
(``fail_after``: k breaches within the last n runs), so a single odd run never pages
anyone. The runs before this one are judged again with today's rule to count breaches,
so the count does not depend on what an older version of the contract said.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from airflow_opsguard.anomaly.history import (
    HistoryKey,
    MetricHistory,
    MetricPoint,
    history_key,
)
from airflow_opsguard.anomaly.metrics import MetricValue
from airflow_opsguard.anomaly.robust import (
    RobustScore,
    median,
    robust_score,
    season_deviations,
    seasonal_score,
)
from airflow_opsguard.checks.observations import CheckObservation
from airflow_opsguard.checks.results import CheckResult, Status
from airflow_opsguard.contract.models import AnomalyCheck, RowCountChangeCheck, SustainedRule

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def evaluate_history_check(
    check: AnomalyCheck | RowCountChangeCheck,
    observation: CheckObservation,
    metrics: Mapping[str, MetricValue],
    history: MetricHistory | None,
    now: datetime,
) -> CheckResult:
    """Judge one history check; ``history`` is None when no results store was given."""
    metric = check.metric_name if isinstance(check, AnomalyCheck) else "rows"
    base: dict[str, Any] = {
        "name": check.display_name,
        "type": check.type,
        "column": check.column if isinstance(check, AnomalyCheck) else None,
        "severity": check.severity,
    }
    problem = observation.error
    if problem is None and history is None:
        problem = (
            f"needs a results store: the check compares {metric} with its stored history, "
            "and no store was given"
        )
    elif problem is None and history is not None and history.error is not None:
        problem = f"cannot read the history of {metric}: {history.error}"
    value = metrics.get(metric)
    drift = isinstance(check, AnomalyCheck) and check.metric == "drift"
    if problem is None and value is None and drift:
        # The distribution check says why there is no score (learning, too few values).
        message = f"no drift score in this run to compare: see distribution({base['column']})"
        return CheckResult(**base, status="pass", message=message)
    if problem is None and value is None:
        problem = f"{metric} has no value in this run (no values to measure it on)"
    if problem is not None or history is None or value is None:
        return CheckResult(**base, status="error", message=problem or "not measured")
    points = history.get(history_key(check))
    if isinstance(check, AnomalyCheck):
        return judge_anomaly(check, value, points, now, base)
    return judge_row_count_change(check, int(value), points, base)


# --------------------------------------------------------------------------- anomaly


def weekday(moment: datetime) -> int:
    """The weekday of an instant in UTC (Monday is 0); naive instants are UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).weekday()


@dataclass(frozen=True)
class Baseline:
    """What a run is compared with: the values whose median is its expected value (the
    newest ``window`` runs; with ``weekly``, those on its weekday), and with ``weekly``
    the deviations of every weekday's runs from their own level, for the spread."""

    values: list[float]
    deviations: list[float] | None = None

    def score(self, value: float) -> RobustScore:
        if self.deviations is None:
            return robust_score(value, self.values)
        return seasonal_score(value, self.values, self.deviations)


def baseline(
    points: Sequence[MetricPoint], moment: datetime, *, weekly: bool, window: int
) -> Baseline:
    """The baseline of a run at ``moment`` from ``points`` (newest first)."""
    if not weekly:
        return Baseline([p.value for p in points[:window]])
    days: dict[int, list[float]] = {}
    for point in points:
        values = days.setdefault(weekday(point.checked_at), [])
        if len(values) < window:
            values.append(point.value)
    same = days.get(weekday(moment), [])
    return Baseline(same, season_deviations(list(days.values())))


def is_breach(score: RobustScore, threshold: float, direction: str) -> bool:
    """Whether a score lies beyond the threshold in the watched direction."""
    if math.isnan(score.z):
        return True  # nothing to compare with honestly: never a silent pass
    if direction == "up":
        return score.z > threshold
    if direction == "down":
        return score.z < -threshold
    return abs(score.z) > threshold


def past_breaches(check: AnomalyCheck, points: Sequence[MetricPoint], count: int) -> list[bool]:
    """Whether each of the newest ``count`` past points breached, judged with ``check``
    against the points before it (a point with too little history before it did not)."""
    flags: list[bool] = []
    for index, point in enumerate(points[:count]):
        before = baseline(
            points[index + 1 :], point.checked_at, weekly=check.weekly, window=check.window
        )
        if len(before.values) < check.history_needed:
            flags.append(False)
            continue
        flags.append(is_breach(before.score(point.value), check.threshold, check.direction))
    return flags


def sustained_status(
    breaches: Sequence[bool], warn_after: SustainedRule, fail_after: SustainedRule | None
) -> Status:
    """The status by the sustained rules, from breach flags of the latest runs, this run
    first. A run that does not breach passes, whatever came before (a recovery)."""
    if not breaches or not breaches[0]:
        return "pass"
    if fail_after is not None and sum(breaches[: fail_after.within]) >= fail_after.breaches:
        return "fail"
    if sum(breaches[: warn_after.within]) >= warn_after.breaches:
        return "warn"
    return "pass"


def judge_anomaly(
    check: AnomalyCheck,
    value: float | int,
    points: Sequence[MetricPoint],
    now: datetime,
    base: Mapping[str, Any],
) -> CheckResult:
    """Judge this run's ``value`` of the check's metric against ``points`` (newest first)."""
    metric = check.metric_name
    compared = baseline(points, now, weekly=check.weekly, window=check.window)
    count = len(compared.values)
    on_day = f" on a {WEEKDAYS[weekday(now)]}" if check.weekly else ""
    needed = check.history_needed
    metrics: dict[str, Any] = {"metric": metric, "value": value, "history": count}
    if count < needed:
        return CheckResult(
            **base,
            status="pass",
            observed=value,
            expected=f"judged after {needed} runs{on_day}",
            message=f"learning: {count} of {needed} runs{on_day}; {metric} is {_number(value)}",
            metrics={**metrics, "learning": True, "min_history": needed},
        )
    score = compared.score(value)
    breach = is_breach(score, check.threshold, check.direction)
    rules = [check.warn_after, *([check.fail_after] if check.fail_after else [])]
    looking_back = max(rule.within for rule in rules)
    flags = [breach, *past_breaches(check, points, looking_back - 1)]
    verdict = sustained_status(flags, check.warn_after, check.fail_after)
    status: Status = "warn" if verdict == "fail" and check.severity == "warn" else verdict
    low, high = score.band(check.threshold)
    expected = _band_text(low, high, check.direction)
    where = f"median {_number(score.median)} over {count} runs{on_day}"
    text = f"{metric} is {_number(value)}"
    if breach:
        text += f", outside {expected} ({where}, robust z {_z_text(score.z)})"
        text += _rule_text(flags, check.warn_after, check.fail_after, verdict)
    else:
        text += f", within {expected} ({where}, robust z {_z_text(score.z)})"
    metrics.update(
        median=score.median,
        mad=score.mad,
        z=None if math.isinf(score.z) else round(score.z, 6),
        threshold=check.threshold,
        breach=breach,
        breaches=sum(flags),
        looked_back=len(flags),
    )
    if compared.deviations is not None:
        metrics["spread_runs"] = len(compared.deviations)
    return CheckResult(
        **base,
        status=status,
        observed=value,
        expected=expected,
        message=text,
        metrics=metrics,
    )


def _rule_text(
    flags: Sequence[bool],
    warn_after: SustainedRule,
    fail_after: SustainedRule | None,
    verdict: Status,
) -> str:
    if fail_after is not None:
        seen = sum(flags[: fail_after.within])
        text = f"; {seen} breach{'es' if seen != 1 else ''} in the last {fail_after.within} runs"
        if verdict != "fail":
            text += f", fails at {fail_after.breaches}"
        if verdict == "pass":
            text += f", warns at {warn_after.breaches} in {warn_after.within}"
        return text
    seen = sum(flags[: warn_after.within])
    text = f"; {seen} breach{'es' if seen != 1 else ''} in the last {warn_after.within} runs"
    return text + (f", warns at {warn_after.breaches}" if verdict == "pass" else "")


def _band_text(low: float, high: float, direction: str) -> str:
    if direction == "up":
        return f"<= {_number(high)}"
    if direction == "down":
        return f">= {_number(low)}"
    return f"[{_number(low)}, {_number(high)}]"


def _z_text(z: float) -> str:
    if math.isinf(z):
        return "infinite: the history never varied"
    return f"{z:+.2f}"


def _number(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.4g}%"


# --------------------------------------------------------------------------- row count change


def judge_row_count_change(
    check: RowCountChangeCheck,
    rows: int,
    points: Sequence[MetricPoint],
    base: Mapping[str, Any],
) -> CheckResult:
    """Judge this run's row count against the previous passing run or the median."""
    if check.relative_to == "previous_pass":
        usable = list(points[: check.min_history])
        what = "passing runs"
    else:
        usable = list(points[: check.window])
        what = "runs"
    metrics: dict[str, Any] = {"rows": rows, "relative_to": check.relative_to}
    if len(usable) < check.min_history or not usable:
        return CheckResult(
            **base,
            status="pass",
            observed=rows,
            expected=f"judged after {check.min_history} {what}",
            message=f"learning: {len(usable)} of {check.min_history} {what}; {rows:,} rows",
            metrics={**metrics, "learning": True, "history": len(usable)},
        )
    if check.relative_to == "previous_pass":
        reference = usable[0].value
        source = f"the previous passing run ({usable[0].checked_at.isoformat()})"
    else:
        reference = median([p.value for p in usable])
        source = f"the median of the last {len(usable)} runs"
    low = None if check.max_drop is None else reference * (1 - check.max_drop)
    high = None if check.max_growth is None else reference * (1 + check.max_growth)
    change = _change(rows, reference)
    dropped = check.max_drop is not None and change < -check.max_drop
    grew = check.max_growth is not None and change > check.max_growth
    expected = _rows_band(low, high)
    shown = "no change" if change == 0 else f"{change:+.1%}"
    if math.isinf(change):
        shown = "rows where there were none"
    text = f"{rows:,} rows, {shown} against {source}: {_number(reference)} rows"
    if dropped:
        text += f"; the contract allows a drop of {_percent(check.max_drop or 0)}"
    elif grew:
        text += f"; the contract allows a growth of {_percent(check.max_growth or 0)}"
    metrics.update(
        reference=reference,
        change=None if math.isinf(change) else round(change, 6),
        history=len(usable),
    )
    return CheckResult(
        **base,
        status=_breach(check.severity) if dropped or grew else "pass",
        observed=rows,
        expected=expected,
        message=text,
        metrics=metrics,
    )


def _change(rows: int, reference: float) -> float:
    """The relative change from ``reference``; from no rows, any rows are an infinite growth."""
    if reference == 0:
        return 0.0 if rows == 0 else math.inf
    return (rows - reference) / reference


def _rows_band(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {_number(low)} and {_number(high)} rows"
    if low is not None:
        return f">= {_number(low)} rows"
    assert high is not None
    return f"<= {_number(high)} rows"


def _breach(severity: str) -> Status:
    return "warn" if severity == "warn" else "fail"


__all__ = [
    "HistoryKey",
    "baseline",
    "evaluate_history_check",
    "is_breach",
    "judge_anomaly",
    "judge_row_count_change",
    "past_breaches",
    "sustained_status",
]
