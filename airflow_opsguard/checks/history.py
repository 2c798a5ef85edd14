"""Judging history checks: a run's metric against the runs before it. Pure.

The history arrives in the observations (read from the results store by the validate
step); nothing here does I/O or reads a clock: ``now`` is this run's time.

Anomaly checks score the metric with a robust z-score against what comparable earlier
runs lead to expect (:func:`~airflow_opsguard.anomaly.expected.expect`: counts as
logarithms, the same weekday's runs with ``weekly``, carried along a robust trend, a
spread measured on comparable runs and floored at the metric's unavoidable noise). A
breach is a score beyond ``threshold``. One breach warns; the check fails only when
breaches pile up (``fail_after``: k breaches within the last n runs), so a single odd
run never pages anyone. The runs before this one are judged again with today's rule to
count breaches, so the count does not depend on what an older version of the contract
said.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from airflow_opsguard.anomaly.expected import Expectation, MetricScale, expect, weekday
from airflow_opsguard.anomaly.history import (
    HistoryKey,
    MetricHistory,
    MetricPoint,
    history_key,
)
from airflow_opsguard.anomaly.metrics import MetricValue
from airflow_opsguard.anomaly.robust import median
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
        rows = metrics.get("rows")
        return judge_anomaly(
            check, value, points, now, base, rows=None if rows is None else int(rows)
        )
    return judge_row_count_change(check, int(value), points, base)


# --------------------------------------------------------------------------- anomaly


def scale_of(check: AnomalyCheck, rows: int | None = None) -> MetricScale:
    """How the check's metric is compared (``rows``: this run's rows, for fractions)."""
    return MetricScale.of(check.metric, rows)


def is_breach(z: float, threshold: float, direction: str) -> bool:
    """Whether a score lies beyond the threshold in the watched direction."""
    if math.isnan(z):
        return True  # nothing to compare with honestly: never a silent pass
    if direction == "up":
        return z > threshold
    if direction == "down":
        return z < -threshold
    return abs(z) > threshold


def expectation(
    check: AnomalyCheck, points: Sequence[MetricPoint], moment: datetime, scale: MetricScale
) -> Expectation | None:
    """What a run at ``moment`` is compared with, or None while the check is learning
    (fewer than ``history_needed`` comparable runs)."""
    compared = expect(points, moment, weekly=check.weekly, window=check.window, scale=scale)
    if compared is None or compared.runs < check.history_needed:
        return None
    return compared


def past_breaches(
    check: AnomalyCheck, points: Sequence[MetricPoint], count: int, rows: int | None = None
) -> list[bool]:
    """Whether each of the newest ``count`` past points breached, judged with ``check``
    against the points before it (a point with too little history before it did not).
    A past run's rows are not stored with its metric: fractions are floored with
    ``rows``, this run's."""
    scale = scale_of(check, rows)
    flags: list[bool] = []
    for index, point in enumerate(points[:count]):
        before = expectation(check, points[index + 1 :], point.checked_at, scale)
        if before is None:
            flags.append(False)
            continue
        flags.append(is_breach(before.z(point.value), check.threshold, check.direction))
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
    *,
    rows: int | None = None,
) -> CheckResult:
    """Judge this run's ``value`` of the check's metric against ``points`` (newest
    first); ``rows``: this run's row count (the floor of a fraction's noise)."""
    metric = check.metric_name
    scale = scale_of(check, rows)
    day_name = WEEKDAYS[weekday(now)]
    on_day = f" on a {day_name}" if check.weekly else ""
    needed = check.history_needed
    compared = expect(points, now, weekly=check.weekly, window=check.window, scale=scale)
    count = 0 if compared is None else compared.runs
    metrics: dict[str, Any] = {"metric": metric, "value": value, "history": count}
    if compared is None or count < needed:
        return CheckResult(
            **base,
            status="pass",
            observed=value,
            expected=f"judged after {needed} runs{on_day}",
            message=f"learning: {count} of {needed} runs{on_day}; {metric} is {_number(value)}",
            metrics={**metrics, "learning": True, "min_history": needed},
        )
    z = compared.z(value)
    breach = is_breach(z, check.threshold, check.direction)
    rules = [check.warn_after, *([check.fail_after] if check.fail_after else [])]
    looking_back = max(rule.within for rule in rules)
    flags = [breach, *past_breaches(check, points, looking_back - 1, rows)]
    verdict = sustained_status(flags, check.warn_after, check.fail_after)
    status: Status = "warn" if verdict == "fail" and check.severity == "warn" else verdict
    low, high = compared.band(check.threshold)
    if scale.log and math.isfinite(high):  # counts: the whole numbers inside the band
        low, high = math.ceil(low), math.floor(high)
    expected = _band_text(low, high, check.direction)
    text = f"{metric} is {_number(value)} on a {day_name}"
    text += f", {'outside' if breach else 'within'} {expected}"
    text += f" ({_expectation_text(compared, check.weekly, day_name)}; robust z {_z_text(z)})"
    if breach:
        text += _rule_text(flags, check.warn_after, check.fail_after, verdict)
    metrics.update(
        expected=compared.expected,
        scale="log" if scale.log else "linear",
        spread=compared.spread,
        spread_floor=compared.floor,
        trend_per_day=compared.trend,
        z=None if math.isinf(z) or math.isnan(z) else round(z, 6),
        threshold=check.threshold,
        breach=breach,
        breaches=sum(flags),
        looked_back=len(flags),
        spread_runs=compared.deviations,
    )
    return CheckResult(
        **base,
        status=status,
        observed=value,
        expected=expected,
        message=text,
        metrics=metrics,
    )


def _expectation_text(compared: Expectation, weekly: bool, day_name: str) -> str:
    """``expected 20,010 from 8 Saturdays, trend +1.0%/week, noise 3.0%``."""
    scale = compared.scale
    runs = f"{compared.runs} {day_name}s" if weekly else f"the last {compared.runs} runs"
    if weekly and compared.runs == 1:
        runs = f"1 {day_name}"
    shown = round(compared.expected) if scale.log and math.isfinite(compared.expected) else None
    text = f"expected {_number(compared.expected if shown is None else shown)} from {runs}"
    if compared.trend:
        if scale.log:
            text += f", trend {math.expm1(7 * compared.trend) * 100:+.1f}%/week"
        else:
            text += f", trend {_signed(7 * compared.trend)}/week"
    text += f", noise {_noise_text(compared)}"
    if compared.floored and scale.poisson:
        text += " (the floor: Poisson noise of the expected count)"
    elif compared.floored and scale.trials:
        text += f" (the floor: binomial noise over {scale.trials:,} rows)"
    return text


def _noise_text(compared: Expectation) -> str:
    """One spread: a percentage for counts, in the metric's units otherwise."""
    if compared.scale.log:
        return f"{math.expm1(compared.spread) * 100:.2g}%"
    return _number(compared.spread)


def _signed(value: float) -> str:
    return ("+" if value >= 0 else "-") + _number(abs(value))


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
    "evaluate_history_check",
    "expectation",
    "is_breach",
    "judge_anomaly",
    "judge_row_count_change",
    "past_breaches",
    "scale_of",
    "sustained_status",
]
