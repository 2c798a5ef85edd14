"""Great Expectations expectations and contract checks, mapped onto each other.

One table of knowledge, used three ways: ``opsguard import-gx`` (a suite becomes a
contract), ``opsguard export-gx`` (a contract becomes a suite), and the GX conformance
tests (GX's own test cases run as contracts). Pure data in and out: GX is not imported.

An expectation maps onto a *fragment*: the piece of a contract that states the same
rule (``{"checks": [...]}``, ``{"volume": ...}`` or ``{"schema": ...}``). Arguments that
are absent stay absent, so that the contract, not this mapping, decides what a missing
argument means. What our contract cannot state raises :class:`Unmappable` with the
reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass


class Unmappable(Exception):
    """An expectation (or a contract rule) that the other side cannot state."""


# Arguments that do not change GX's verdict.
NEUTRAL_ARGS = frozenset({"result_format", "catch_exceptions", "include_config", "meta"})
# Where GX expectations keep what only opsguard reads (a check's name, a column's type).
META_KEY = "opsguard"


@dataclass(frozen=True)
class Fragment:
    """A piece of a contract, and the result type our verdict on it is read from."""

    contract: dict[str, Any]
    check_type: str


def _take(args: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    unknown = set(args) - known - NEUTRAL_ARGS
    if unknown:
        raise Unmappable(f"arguments with no contract equivalent: {sorted(unknown)}")
    for name, value in args.items():
        if isinstance(value, dict) and "$PARAMETER" in value:
            raise Unmappable(f"{name} is a GX suite parameter")
    return {k: v for k, v in args.items() if k in known}


def _put(target: dict[str, Any], args: Mapping[str, Any], pairs: Mapping[str, str]) -> None:
    for gx_name, our_name in pairs.items():
        if gx_name in args:
            target[our_name] = args[gx_name]


def _check(check_type: str, args: Mapping[str, Any], pairs: Mapping[str, str]) -> Fragment:
    check: dict[str, Any] = {"type": check_type}
    _put(check, args, {"column": "column", "mostly": "mostly", **pairs})
    return Fragment({"checks": [check]}, check_type)


_BETWEEN = {
    "min_value": "min",
    "max_value": "max",
    "strict_min": "strict_min",
    "strict_max": "strict_max",
}


def _not_null(args: Mapping[str, Any]) -> Fragment:
    return _check("not_null", _take(args, {"column", "mostly"}), {})


def _unique(args: Mapping[str, Any]) -> Fragment:
    return _check("unique", _take(args, {"column", "mostly"}), {})


def _compound_unique(args: Mapping[str, Any]) -> Fragment:
    taken = _take(args, {"column_list", "mostly", "ignore_row_if"})
    if taken.get("ignore_row_if", "all_values_are_missing") != "all_values_are_missing":
        raise Unmappable(
            f"ignore_row_if={taken['ignore_row_if']}: a compound unique check compares every "
            "row unless all its columns are null"
        )
    return _check("unique", taken, {"column_list": "columns"})


def _between(args: Mapping[str, Any]) -> Fragment:
    return _check("range", _take(args, {"column", "mostly", *_BETWEEN}), _BETWEEN)


def _statistic(statistic: str) -> Callable[[Mapping[str, Any]], Fragment]:
    def mapper(args: Mapping[str, Any]) -> Fragment:
        fragment = _check("statistic", _take(args, {"column", *_BETWEEN}), _BETWEEN)
        fragment.contract["checks"][0]["statistic"] = statistic
        return fragment

    return mapper


def _in_set(check_type: str) -> Callable[[Mapping[str, Any]], Fragment]:
    def mapper(args: Mapping[str, Any]) -> Fragment:
        taken = _take(args, {"column", "mostly", "value_set"})
        return _check(check_type, taken, {"value_set": "values"})

    return mapper


def _regex(args: Mapping[str, Any]) -> Fragment:
    return _check("pattern", _take(args, {"column", "mostly", "regex"}), {"regex": "pattern"})


def _lengths(args: Mapping[str, Any]) -> Fragment:
    taken = _take(args, {"column", "mostly", "min_value", "max_value"})
    return _check("length", taken, {"min_value": "min_length", "max_value": "max_length"})


def _row_count(args: Mapping[str, Any]) -> Fragment:
    taken = _take(args, {"min_value", "max_value"})
    if taken.get("min_value") is None and taken.get("max_value") is None:
        raise Unmappable("a row count with no bound at all")
    volume: dict[str, Any] = {}
    _put(volume, taken, {"min_value": "min_rows", "max_value": "max_rows"})
    return Fragment({"volume": volume}, "volume")


def _columns(names: Any) -> list[Any]:
    return [{"name": name} for name in names]


def _column_exists(args: Mapping[str, Any]) -> Fragment:
    taken = _take(args, {"column"})
    return Fragment(
        {"schema": {"columns": _columns([taken.get("column")]), "extra_columns": "allow"}},
        "schema",
    )


def _ordered_list(args: Mapping[str, Any]) -> Fragment:
    taken = _take(args, {"column_list"})
    if taken.get("column_list") is None:
        raise Unmappable("no column list")
    schema = {"columns": _columns(taken["column_list"]), "extra_columns": "fail", "ordered": True}
    return Fragment({"schema": schema}, "schema")


def _column_set(args: Mapping[str, Any]) -> Fragment:
    taken = _take(args, {"column_set", "exact_match"})
    # No set: no column is required; with exact_match every column is then extra.
    names = taken.get("column_set") or []
    extra = "fail" if taken.get("exact_match", True) else "allow"
    return Fragment({"schema": {"columns": _columns(names), "extra_columns": extra}}, "schema")


# Type names as pandas, Arrow and SQL databases spell them, onto our column types.
_TYPE_WORDS: tuple[tuple[str, str], ...] = (
    ("datetime", "timestamp"),
    ("timestamp", "timestamp"),
    ("date", "date"),
    ("bool", "boolean"),
    ("uint", "integer"),
    ("int", "integer"),
    ("float", "float"),
    ("double", "float"),
    ("real", "float"),
    ("numeric", "decimal"),
    ("decimal", "decimal"),
    ("str", "string"),
    ("char", "string"),
    ("text", "string"),
)


def column_type_of(type_name: str) -> str | None:
    """Our column type for a pandas, Arrow or SQL type name (None when none fits)."""
    lowered = type_name.strip().lower()
    for word, ours in _TYPE_WORDS:
        if lowered.startswith(word) or (word in ("char", "text") and word in lowered):
            return ours
    return None


def _typed_column(column: Any, names: list[Any]) -> Fragment:
    kinds = {column_type_of(str(n)) for n in names}
    if not names or None in kinds or len(kinds) != 1:
        raise Unmappable(
            f"the type names {names} do not name one of our column types (integer, float, "
            "decimal, string, boolean, date, timestamp)"
        )
    schema = {"columns": [{"name": column, "type": kinds.pop()}], "extra_columns": "allow"}
    return Fragment({"schema": schema}, "schema")


def _of_type(args: Mapping[str, Any]) -> Fragment:
    taken = _take(args, {"column", "type_"})
    return _typed_column(taken.get("column"), [taken.get("type_")])


def _in_type_list(args: Mapping[str, Any]) -> Fragment:
    taken = _take(args, {"column", "type_list"})
    return _typed_column(taken.get("column"), list(taken.get("type_list") or []))


def _unmappable(reason: str) -> Callable[[Mapping[str, Any]], Fragment]:
    def mapper(args: Mapping[str, Any]) -> Fragment:
        raise Unmappable(reason)

    return mapper


MAPPERS: dict[str, Callable[[Mapping[str, Any]], Fragment]] = {
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_null": _unmappable("no check asserts that values are null"),
    "expect_column_values_to_be_unique": _unique,
    "expect_compound_columns_to_be_unique": _compound_unique,
    "expect_column_values_to_be_between": _between,
    "expect_column_min_to_be_between": _statistic("min"),
    "expect_column_max_to_be_between": _statistic("max"),
    "expect_column_mean_to_be_between": _statistic("mean"),
    "expect_column_sum_to_be_between": _statistic("sum"),
    "expect_column_unique_value_count_to_be_between": _statistic("distinct_count"),
    "expect_column_values_to_be_in_set": _in_set("allowed"),
    "expect_column_values_to_not_be_in_set": _in_set("not_allowed"),
    "expect_column_values_to_match_regex": _regex,
    "expect_column_value_lengths_to_be_between": _lengths,
    "expect_table_row_count_to_be_between": _row_count,
    "expect_column_to_exist": _column_exists,
    "expect_table_columns_to_match_ordered_list": _ordered_list,
    "expect_table_columns_to_match_set": _column_set,
    "expect_column_values_to_be_of_type": _of_type,
    "expect_column_values_to_be_in_type_list": _in_type_list,
}


def expectation_fragment(expectation_type: str, kwargs: Mapping[str, Any]) -> Fragment:
    """The contract fragment that states what one expectation asserts.

    Raises :class:`Unmappable` (with the reason) when our contract cannot state it.
    """
    mapper = MAPPERS.get(expectation_type)
    if mapper is None:
        raise Unmappable(f"no check of ours maps {expectation_type}")
    args = dict(kwargs)
    if "row_condition" in args or "condition_parser" in args:
        raise Unmappable("row_condition: our checks have no row filter")
    return mapper(args)


def is_warning(expectation: Mapping[str, Any]) -> bool:
    """An expectation whose failure only warns: GX severity ``warning`` or ``info``, or
    ``meta: {severity: warn}``."""
    meta = expectation.get("meta") or {}
    severity = str(expectation.get("severity") or "critical").lower()
    return severity in ("warning", "info") or str(meta.get("severity", "")).lower() == "warn"


@dataclass(frozen=True)
class Skipped:
    """An expectation (by index and type) or a contract rule that did not convert."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"
