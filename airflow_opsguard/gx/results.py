"""GX expectation results as our check results (``type: gx``). Pure: plain mappings in
(the suite's expectation and GX's result as JSON), a :class:`CheckResult` out.

GX's ``unexpected_count``/``unexpected_percent`` become the failing count and fraction,
its ``partial_unexpected_list`` the failing samples, and its ``observed_value`` the
observed value. An exception inside GX is a result with status ``error`` that names the
expectation, never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from airflow_opsguard.checks.results import CheckResult, Status, to_json_value
from airflow_opsguard.gx.mapping import is_warning

SAMPLES = 5


def expectation_name(expectation_type: str, kwargs: Mapping[str, Any]) -> str:
    """``expect_column_values_to_not_be_null(email)``; table expectations have no
    column: ``expect_table_row_count_to_be_between``."""
    columns = expectation_columns(kwargs)
    return f"{expectation_type}({', '.join(columns)})" if columns else expectation_type


def expectation_columns(kwargs: Mapping[str, Any]) -> list[str]:
    if kwargs.get("column") is not None:
        return [str(kwargs["column"])]
    if kwargs.get("column_A") is not None and kwargs.get("column_B") is not None:
        return [str(kwargs["column_A"]), str(kwargs["column_B"])]
    if kwargs.get("column_list") and isinstance(kwargs.get("column_list"), list):
        return [str(c) for c in kwargs["column_list"]]
    return []


def check_result(
    expectation: Mapping[str, Any], outcome: Mapping[str, Any] | None, suite: str
) -> CheckResult:
    """The check result of one expectation of ``suite`` from GX's result (None: GX gave
    none for it)."""
    kind = str(expectation.get("type"))
    kwargs: Mapping[str, Any] = expectation.get("kwargs") or {}
    name = expectation_name(kind, kwargs)
    severity = "warn" if is_warning(expectation) else "fail"
    base: dict[str, Any] = {
        "name": name,
        "type": "gx",
        "column": ", ".join(expectation_columns(kwargs)) or None,
        "severity": severity,
        "expected": expected_text(kind, kwargs),
        "mostly": kwargs.get("mostly"),
        "metrics": {"suite": suite, "expectation_type": kind},
    }
    if outcome is None:
        return CheckResult(
            **base, status="error", message=f"GX returned no result for it (suite {suite})"
        )
    problem = exception_message(outcome.get("exception_info"))
    if problem is not None:
        return CheckResult(**base, status="error", message=f"GX raised: {problem}")
    success = outcome.get("success")
    if success is None:
        return CheckResult(**base, status="error", message="GX gave no verdict")
    result: Mapping[str, Any] = outcome.get("result") or {}
    status: Status = "pass" if success else ("warn" if severity == "warn" else "fail")
    if result.get("unexpected_count") is not None:
        return _map_result(base, status, result)
    observed = _observed(result.get("observed_value"))
    message = "passed" if success else "failed"
    if "observed_value" in result:
        message = f"observed {observed}; expected {base['expected']}"
    return CheckResult(**base, status=status, observed=observed, message=message)


def _map_result(base: dict[str, Any], status: Status, result: Mapping[str, Any]) -> CheckResult:
    """A column map expectation: GX counted the values that broke it."""
    failing = int(result["unexpected_count"])
    percent = result.get("unexpected_percent")
    fraction = float(percent) / 100 if isinstance(percent, int | float) else None
    elements = result.get("element_count")
    missing = result.get("missing_count") or 0
    considered = elements - missing if isinstance(elements, int) else None
    samples = [v for v in (result.get("partial_unexpected_list") or []) if not _is_missing(v)]
    samples = [to_json_value(v) for v in samples[:SAMPLES]]
    mostly = base.get("mostly")
    if failing == 0:
        message = "no unexpected values"
    else:
        message = f"{failing:,} unexpected"
        if considered is not None:
            message += f" of {considered:,} values"
        if fraction is not None:
            message += f" ({fraction:.2%})"
        if samples:
            message += ", e.g. " + ", ".join(repr(s) for s in samples[:3])
        if status == "pass" and mostly is not None:
            message += f"; within mostly={mostly}"
    metrics = dict(base.pop("metrics"))
    if considered is not None:
        metrics["considered"] = considered
    return CheckResult(
        **{**base, "expected": 0 if mostly is None else f"<= {1 - mostly:.4g} of values"},
        status=status,
        observed=failing,
        message=message,
        failing_count=failing,
        failing_fraction=round(fraction, 6) if fraction is not None else None,
        samples=tuple(samples),
        metrics=metrics,
    )


def exception_message(info: Any) -> str | None:
    """The message of an exception GX caught, in either of the shapes GX reports it
    (one ``exception_info`` mapping, or one per metric); None when nothing was raised."""
    if not isinstance(info, Mapping):
        return None
    if info.get("raised_exception"):
        return _first_line(info.get("exception_message")) or "an exception"
    for value in info.values():
        if isinstance(value, Mapping) and value.get("raised_exception"):
            return _first_line(value.get("exception_message")) or "an exception"
    return None


def _first_line(text: Any) -> str:
    lines = str(text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _observed(value: Any) -> Any:
    value = to_json_value(value)
    if isinstance(value, list | dict):
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return value


def expected_text(kind: str, kwargs: Mapping[str, Any]) -> str:
    """What the expectation asks for, shortly: ``[0, 100]``, ``{'US', 'DE'}``, ``/^a/``."""
    if "min_value" in kwargs or "max_value" in kwargs:
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        left = "(" if kwargs.get("strict_min") else "["
        right = ")" if kwargs.get("strict_max") else "]"
        if low is not None and high is not None:
            return f"{left}{low}, {high}{right}"
        if low is not None:
            return f"{'>' if kwargs.get('strict_min') else '>='} {low}"
        if high is not None:
            return f"{'<' if kwargs.get('strict_max') else '<='} {high}"
    for key in ("value_set", "column_set", "column_list", "type_list"):
        if isinstance(kwargs.get(key), list):
            values = kwargs[key]
            shown = ", ".join(repr(v) for v in values[:10])
            return "{" + shown + (", ..." if len(values) > 10 else "") + "}"
    if "regex" in kwargs:
        return f"/{kwargs['regex']}/"
    if "value" in kwargs:
        return str(kwargs["value"])
    if "type_" in kwargs:
        return str(kwargs["type_"])
    return {
        "expect_column_values_to_not_be_null": "no nulls",
        "expect_column_values_to_be_null": "only nulls",
        "expect_column_values_to_be_unique": "unique",
        "expect_compound_columns_to_be_unique": "unique",
        "expect_column_to_exist": "present",
    }.get(kind, "success")
