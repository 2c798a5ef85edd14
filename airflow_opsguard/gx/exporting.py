"""A contract's rules as GX expectations (``opsguard export-gx``), and the rules GX
cannot state, each with the reason. Pure: GX is not imported."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_opsguard.checks.results import to_json_value
from airflow_opsguard.gx.mapping import META_KEY, Skipped, Unmappable

if TYPE_CHECKING:
    from airflow_opsguard.contract.models import Contract


def _expectation(
    kind: str, kwargs: Mapping[str, Any], severity: str, ours: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    clean = {k: to_json_value(v) for k, v in kwargs.items() if v is not None}
    return {
        "type": kind,
        "kwargs": clean,
        "meta": {META_KEY: dict(ours)} if ours else {},
        "severity": "warning" if severity == "warn" else "critical",
    }


def _between_kwargs(low: Any, high: Any, strict_low: bool, strict_high: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"min_value": low, "max_value": high}
    if strict_low:
        out["strict_min"] = True
    if strict_high:
        out["strict_max"] = True
    return out


_STATISTICS = {
    "min": "expect_column_min_to_be_between",
    "max": "expect_column_max_to_be_between",
    "mean": "expect_column_mean_to_be_between",
    "sum": "expect_column_sum_to_be_between",
    "distinct_count": "expect_column_unique_value_count_to_be_between",
}


def check_expectation(check: Any) -> dict[str, Any]:
    """The GX expectation of one of our checks; raises :class:`Unmappable`."""
    kind = check.type
    kwargs: dict[str, Any] = {}
    if getattr(check, "mostly", None) is not None:
        kwargs["mostly"] = check.mostly
    if kind == "not_null":
        name, kwargs = "expect_column_values_to_not_be_null", {"column": check.column, **kwargs}
    elif kind == "unique" and check.column is not None:
        name, kwargs = "expect_column_values_to_be_unique", {"column": check.column, **kwargs}
    elif kind == "unique":
        name = "expect_compound_columns_to_be_unique"
        kwargs = {"column_list": list(check.columns), **kwargs}
    elif kind == "range":
        name = "expect_column_values_to_be_between"
        bounds = _between_kwargs(check.min, check.max, check.strict_min, check.strict_max)
        kwargs = {"column": check.column, **bounds, **kwargs}
    elif kind == "statistic":
        if check.statistic == "distinct_count" and (check.strict_min or check.strict_max):
            raise Unmappable("GX's unique value count has no strict bounds")
        name = _STATISTICS[check.statistic]
        bounds = _between_kwargs(check.min, check.max, check.strict_min, check.strict_max)
        kwargs = {"column": check.column, **bounds}
    elif kind in ("allowed", "not_allowed"):
        name = (
            "expect_column_values_to_be_in_set"
            if kind == "allowed"
            else "expect_column_values_to_not_be_in_set"
        )
        kwargs = {"column": check.column, "value_set": list(check.values), **kwargs}
    elif kind == "pattern":
        name = "expect_column_values_to_match_regex"
        kwargs = {"column": check.column, "regex": check.pattern, **kwargs}
    elif kind == "length":
        name = "expect_column_value_lengths_to_be_between"
        bounds = {"min_value": check.min_length, "max_value": check.max_length}
        kwargs = {"column": check.column, **bounds, **kwargs}
    else:
        raise Unmappable(f"GX has no expectation for a {kind} check")
    if check.mode == "shadow":
        raise Unmappable("shadow mode has no GX equivalent")
    ours = {"name": check.name} if check.name else None
    return _expectation(name, kwargs, check.severity, ours)


def contract_to_expectations(contract: Contract) -> tuple[list[dict[str, Any]], list[Skipped]]:
    """The contract's rules as GX expectations, and the rules GX cannot state."""
    expectations: list[dict[str, Any]] = []
    skipped: list[Skipped] = []
    schema = contract.schema_
    if schema is not None and schema.columns:
        for column in schema.columns:
            ours = {"type": column.type} if column.type else None
            kwargs = {"column": column.name}
            expectations.append(
                _expectation("expect_column_to_exist", kwargs, schema.severity, ours)
            )
        names = [c.name for c in schema.columns]
        # The exact column set carries the extra columns' severity (see ContractBuilder).
        severity = "warn" if schema.extra_columns == "warn" else schema.severity
        if schema.ordered and schema.extra_columns == "fail":
            expectations.append(
                _expectation(
                    "expect_table_columns_to_match_ordered_list",
                    {"column_list": names},
                    severity,
                )
            )
        elif schema.ordered:
            skipped.append(
                Skipped(
                    "schema.ordered",
                    f"with extra_columns {schema.extra_columns}: GX's ordered list is exact",
                )
            )
        if schema.extra_columns != "allow" and not (
            schema.ordered and schema.extra_columns == "fail"
        ):
            expectations.append(
                _expectation(
                    "expect_table_columns_to_match_set",
                    {"column_set": names, "exact_match": True},
                    severity,
                )
            )
    if contract.volume is not None:
        volume = contract.volume
        rows = {"min_value": volume.min_rows, "max_value": volume.max_rows}
        expectations.append(
            _expectation("expect_table_row_count_to_be_between", rows, volume.severity)
        )
    for index, check in enumerate(contract.all_checks):
        try:
            expectations.append(check_expectation(check))
        except Unmappable as exc:
            skipped.append(Skipped(f"check {check.display_name} (#{index + 1})", str(exc)))
    if contract.freshness is not None:
        skipped.append(
            Skipped("freshness", "GX has no expectation relative to the time of the run")
        )
    if contract.distribution is not None:
        skipped.append(
            Skipped("distribution", "GX has no drift check against an opsguard reference")
        )
    return expectations, skipped
