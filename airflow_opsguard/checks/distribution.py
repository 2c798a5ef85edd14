"""Pure verdicts on distribution drift: a reference profile and current counts in, one
:class:`CheckResult` per column out. No I/O.

The verdict is taken on the part of the statistic that sampling noise does not explain
(:func:`~airflow_opsguard.drift.statistics.beyond_noise`): at 1,000 rows a healthy
sample shows a Jensen-Shannon distance of several hundredths by chance alone, at 10
million rows almost none. The thresholds are effect sizes, never p-values, so a
negligible shift at a very large size stays quiet and a real shift fails at any size.

Defaults (see docs/drift.md):

=====================  ===========  ====  ====
column type            method       warn  fail
=====================  ===========  ====  ====
integer/float/decimal  wasserstein  0.15  0.3
string/boolean         js           0.08  0.12
=====================  ===========  ====  ====

and for methods chosen in the contract: psi 0.1 / 0.25 (the industry's convention),
cramers_v 0.1 / 0.15.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_opsguard.checks.observations import CheckObservation
from airflow_opsguard.checks.results import CheckResult, Status
from airflow_opsguard.contract.models import Distribution, DistributionColumn
from airflow_opsguard.drift.histogram import histogram
from airflow_opsguard.drift.observations import CurrentColumn, DriftObservation
from airflow_opsguard.drift.profile import Category, ColumnProfile
from airflow_opsguard.drift.reference import LEARNING
from airflow_opsguard.drift.statistics import (
    CATEGORICAL_METHODS,
    NUMERIC_METHODS,
    Cells,
    beyond_noise,
    bin_positions,
    robust_scale,
    sampling_noise,
    statistics,
)

DEFAULT_METHODS = {"numeric": "wasserstein", "categorical": "js"}
THRESHOLDS: dict[str, tuple[float, float]] = {
    "wasserstein": (0.15, 0.3),
    "js": (0.08, 0.12),
    "psi": (0.1, 0.25),
    "cramers_v": (0.1, 0.15),
}
MOVERS = 5  # bins or categories listed in a result
SHOWN = 3  # ... and named in its message
VANISHED_EXPECTED = 5  # a value is called vanished when at least this many were expected


def thresholds(method: str, warn: float | None, fail: float | None) -> tuple[float, float]:
    """The warn and fail levels: the contract's, else the method's defaults (a default
    never crosses a level the contract gives)."""
    default_warn, default_fail = THRESHOLDS[method]
    if warn is None and fail is None:
        return default_warn, default_fail
    if warn is None:
        assert fail is not None
        return min(default_warn, fail), fail
    if fail is None:
        return warn, max(default_fail, warn)
    return warn, fail


def evaluate_distribution(
    section: Distribution,
    column: DistributionColumn,
    observation: CheckObservation,
    *,
    withhold: bool = False,
) -> CheckResult:
    """Judge one column's distribution against the reference. ``withhold`` (the
    contract's ``samples: false``): no category name in the message or metrics, since
    category names are values; categories are named by their rank in the reference."""
    severity = column.severity or section.severity
    min_rows = column.min_rows if column.min_rows is not None else section.min_rows
    base: dict[str, Any] = {
        "name": f"distribution({column.name})",
        "type": "distribution",
        "column": column.name,
        "severity": severity,
    }
    if observation.error and observation.error.startswith(LEARNING):
        return CheckResult(**base, status="pass", message=observation.error)
    if observation.error:
        return CheckResult(**base, status="error", message=observation.error)
    found = observation.value
    if not isinstance(found, DriftObservation):
        return CheckResult(**base, status="error", message="not measured")
    reference, current = found.reference, found.current
    kind = reference.kind
    assert kind is not None
    method = column.method or DEFAULT_METHODS[kind]
    allowed = NUMERIC_METHODS if kind == "numeric" else CATEGORICAL_METHODS
    if method not in allowed:
        return CheckResult(
            **base,
            status="error",
            message=f"not measured: {method} does not apply to {column.name!r} "
            f"({reference.type}); use one of {', '.join(allowed)}",
        )
    warn, fail = thresholds(method, column.warn, column.fail)
    base["expected"] = f"< {fail:g} ({method})"
    sizes = {"reference": reference.count, "current": current.count}
    short = _too_few(column.name, reference, current, min_rows)
    if short:
        return CheckResult(**base, status="warn", message=short, metrics={"values": sizes})
    cells = _cells(reference, current)
    values = statistics(cells)
    noise = sampling_noise(cells)
    value = values[method]
    judged = beyond_noise(method, value, noise[method])
    status: Status = "pass"
    if judged >= fail:
        status = "warn" if severity == "warn" else "fail"
    elif judged >= warn:
        status = "warn"
    metrics: dict[str, Any] = {
        "method": method,
        "statistic": _round(value),
        "noise": _round(noise[method]),
        "beyond_noise": _round(judged),
        "warn": warn,
        "fail": fail,
        **{name: _round(v) for name, v in values.items()},
        "values": sizes,
        "null_fraction": {
            "reference": _round(reference.null_fraction),
            "current": _round(current.null_fraction),
        },
        "histogram": histogram(reference, current, withhold=withhold),
    }
    details = (
        _numeric_details(reference, current, metrics)
        if kind == "numeric"
        else _categorical_details(reference, current, metrics, withhold)
    )
    if status == "pass":  # the movers of a pass are noise: keep them in the metrics only
        details = [d for d in details if not d.startswith("most moved")]
    head = _headline(column.name, method, value, judged, noise[method], status, warn, fail)
    message = "; ".join([head, *details])
    return CheckResult(
        **base, status=status, observed=_round(value), message=message, metrics=metrics
    )


def _too_few(name: str, reference: ColumnProfile, current: CurrentColumn, min_rows: int) -> str:
    """Why drift is not judged (too few values), or an empty string."""
    needed = max(min_rows, 1)
    if reference.count < needed:
        return (
            f"drift of {name} not judged: the reference has {reference.count:,} values, "
            f"fewer than min_rows ({min_rows:,})"
        )
    if current.count < needed:
        return (
            f"drift of {name} not judged: {current.count:,} values, "
            f"fewer than min_rows ({min_rows:,})"
        )
    return ""


def _cells(reference: ColumnProfile, current: CurrentColumn) -> Cells:
    if reference.numeric is not None:
        n = reference.numeric
        scale, _ = robust_scale(n.p25, n.p75, n.std)
        positions = bin_positions(n.edges, n.means, scale)
        return Cells(
            reference=tuple(float(c) for c in n.counts),
            current=tuple(float(c) for c in current.cells),
            positions=tuple(positions),
            scale=scale,
        )
    assert reference.categorical is not None
    c = reference.categorical
    return Cells(
        reference=(*(float(n) for _, n in c.top), float(c.other)),
        current=tuple(float(n) for n in current.cells),
    )


def _round(value: float) -> float:
    return round(value, 4)


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:.4g}"


def _share(value: float) -> str:
    return f"{value:.1%}"


def _headline(
    name: str,
    method: str,
    value: float,
    judged: float,
    noise: float,
    status: Status,
    warn: float,
    fail: float,
) -> str:
    if status == "pass":
        return (
            f"{name} is like the reference: {method} {value:.3g} "
            f"(sampling noise at these sizes reaches {noise:.3g}; warn from {warn:g})"
        )
    level = fail if judged >= fail else warn
    return (
        f"{name} drifted: {method} {value:.3g}, {judged:.3g} beyond sampling noise "
        f"({'fail' if level == fail else 'warn'} from {level:g})"
    )


def _movers(
    labels: Sequence[str], reference: Sequence[float], current: Sequence[float]
) -> list[dict[str, Any]]:
    total_ref, total_cur = sum(reference) or 1.0, sum(current) or 1.0
    rows = [
        (abs(c / total_cur - r / total_ref), label, r / total_ref, c / total_cur)
        for label, r, c in zip(labels, reference, current, strict=True)
    ]
    rows.sort(key=lambda row: -row[0])
    return [
        {"cell": label, "reference": _round(r), "current": _round(c)}
        for moved, label, r, c in rows[:MOVERS]
        if moved >= 0.0005
    ]


def _numeric_details(
    reference: ColumnProfile, current: CurrentColumn, metrics: dict[str, Any]
) -> list[str]:
    assert reference.numeric is not None
    n = reference.numeric
    scale, basis = robust_scale(n.p25, n.p75, n.std)
    labels = [n.bin_label(i) for i in range(len(n.counts))]
    movers = _movers(labels, n.counts, current.cells)
    metrics.update(
        scale=_round(scale),
        scale_basis=basis,
        mean={"reference": n.mean, "current": current.mean},
        std={"reference": n.std, "current": current.std},
        min={"reference": n.minimum, "current": current.minimum},
        max={"reference": n.maximum, "current": current.maximum},
        bins=movers,
    )
    details = [f"mean {_number(n.mean)} -> {_number(current.mean)}"]
    shown = [
        f"{m['cell']} {_share(m['reference'])} -> {_share(m['current'])}" for m in movers[:SHOWN]
    ]
    if shown:
        details.append("most moved: " + ", ".join(shown))
    return details


def _categorical_details(
    reference: ColumnProfile, current: CurrentColumn, metrics: dict[str, Any], withhold: bool
) -> list[str]:
    assert reference.categorical is not None
    c = reference.categorical
    ref_total, cur_total = reference.count or 1, current.count or 1
    # Withheld, a category reads as its rank in the reference: "#2" (no value).
    names = [f"#{i + 1}" if withhold else repr(v) for i, v in enumerate(c.values)]
    labels = [*names, "(other)"]
    movers = _movers(labels, [*(n for _, n in c.top), c.other], current.cells)
    # Vanished: absent, though a healthy sample of this size would hold at least
    # VANISHED_EXPECTED of them (a rare value missing from a small sample is no news).
    vanished = [
        (value, name, n / ref_total)
        for name, (value, n), now in zip(names, c.top, current.cells, strict=False)
        if now == 0 and current.count * n / ref_total >= VANISHED_EXPECTED
    ]
    if withhold:
        return _withheld_details(reference, current, metrics, movers, vanished)
    unseen = [{"value": value, "share": _round(n / cur_total)} for value, n in current.unseen]
    metrics.update(categories=movers, other=_other(reference, current))
    details: list[str] = []
    if unseen:
        metrics["new" if c.complete else "unlisted"] = unseen
        details.extend(_unseen_text(value, n / cur_total, c) for value, n in current.unseen[:SHOWN])
        if len(current.unseen) > SHOWN:
            details.append(f"{len(current.unseen) - SHOWN} more values not in the reference")
    if vanished:
        metrics["vanished"] = [{"value": v, "share": _round(s)} for v, _, s in vanished]
        details.extend(f"{name} vanished (was {_share(s)})" for _, name, s in vanished[:SHOWN])
        if len(vanished) > SHOWN:
            details.append(f"{len(vanished) - SHOWN} more values vanished")
    named = {name for _, name, _ in vanished}
    shifted = [
        f"{m['cell']} {_share(m['reference'])} -> {_share(m['current'])}"
        for m in movers
        if m["cell"] not in named and m["reference"] > 0 and m["current"] > 0
    ]
    if shifted:
        details.append("most moved: " + ", ".join(shifted[:SHOWN]))
    return details


def _withheld_details(
    reference: ColumnProfile,
    current: CurrentColumn,
    metrics: dict[str, Any],
    movers: list[dict[str, Any]],
    vanished: list[tuple[Category, str, float]],
) -> list[str]:
    """The categorical details without a value: ranks in the reference, and the values
    the reference does not list counted, not named."""
    assert reference.categorical is not None
    complete = reference.categorical.complete
    metrics.update(categories=movers, other=_other(reference, current))
    details: list[str] = []
    if current.unseen:
        share = sum(n for _, n in current.unseen) / (current.count or 1)
        what = "the reference never had" if complete else "not among its top values"
        metrics["new" if complete else "unlisted"] = {
            "values": len(current.unseen),
            "share": _round(share),
        }
        details.append(f"{len(current.unseen)} values {what} at {_share(share)} (withheld)")
    if vanished:
        metrics["vanished"] = [{"value": name, "share": _round(s)} for _, name, s in vanished]
        shown = [f"{name} (was {_share(s)})" for _, name, s in vanished[:SHOWN]]
        more = len(vanished) - SHOWN
        details.append("vanished: " + ", ".join(shown) + (f" and {more} more" if more > 0 else ""))
    shifted = [
        f"{m['cell']} {_share(m['reference'])} -> {_share(m['current'])}"
        for m in movers
        if m["reference"] > 0 and m["current"] > 0
    ]
    if shifted:
        details.append("most moved: " + ", ".join(shifted[:SHOWN]))
    return details


def _other(reference: ColumnProfile, current: CurrentColumn) -> dict[str, float]:
    assert reference.categorical is not None
    return {
        "reference": _round(reference.categorical.other / (reference.count or 1)),
        "current": _round(current.cells[-1] / (current.count or 1)),
    }


def _unseen_text(value: Category, share: float, reference: Any) -> str:
    if reference.complete:
        return f"{value!r} appeared at {_share(share)}"
    return (
        f"{value!r} at {_share(share)} is not among the reference's "
        f"{len(reference.top)} most frequent values"
    )
