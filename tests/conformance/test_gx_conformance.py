"""Conformance with Great Expectations: GX's own test definitions, run against our checks.

The JSON files in ``shared/conformance/gx`` are read as they are (see the README there).
For every case the runner builds the dataset the way GX's own runner does, maps the
expectation onto one of our contracts, runs :func:`validate` and compares our verdict
with GX's ``out.success``:

* GX succeeds / fails  ->  our mapped checks pass / fail;
* GX raises (``error``, or ``out.traceback_substring``)  ->  our contract is rejected
  (:class:`ContractError`) or the mapped check reports status ``error``.

A case that cannot map onto our checks is listed by title in ``SKIPS`` (every backend)
or ``BACKEND_SKIPS`` (one backend) with the reason beside it. A case that is neither run
nor listed fails the suite, and so does a listed case that no longer exists.

Backends: ``BACKENDS`` is the one parameter that says where the cases run. ``pandas``
hands a DataFrame to ``validate(data=...)``. SQLite and PostgreSQL are meant to load the
same DataFrame into a table, typed by the dataset's ``schemas`` for that backend, and to
check that table with the same contract; ``BACKEND_SKIPS`` already lists what GX itself
does not run there.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from airflow_opsguard import ContractError, GateResult, validate

GX_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "gx"
if not GX_DIR.is_dir():  # fail the collection loudly: a missing suite must never pass
    raise FileNotFoundError(f"the GX conformance definitions are missing: {GX_DIR}")

NOW = datetime(2026, 1, 1, tzinfo=UTC)

# The backends every case runs on. Each needs a loader in LOADERS below.
BACKENDS: tuple[str, ...] = ("pandas",)

# GX's names for SQL backends (its SQL_DIALECT_NAMES), for "sqlalchemy" in only_for and
# suppress_test_for.
SQL_BACKENDS = frozenset(
    {
        "sqlite",
        "postgresql",
        "mysql",
        "mssql",
        "bigquery",
        "trino",
        "redshift",
        "athena",
        "snowflake",
        "clickhouse",
    }
)


# --------------------------------------------------------------------------- skip tables
# Reasons fall into a few categories, named by the first words of each reason.

_ROW_CONDITION = "row_condition: our checks have no row filter (GX conditional expectations)"
_NO_NULL_CHECK = "no check kind: we have no check that values ARE null (only not_null)"
_EVAL_PARAMETER = "$PARAMETER: GX suite parameters (evaluated expressions) are not contract values"
_GX_ONLY_FOR = "GX only_for: GX itself runs this case only on {}"
_GX_SUPPRESSED = "GX suppress_test_for: GX itself does not run this case on {}"

SKIPS: dict[tuple[str, str], str] = {
    # -- expect_column_values_to_be_null: no equivalent check
    **{
        ("expect_column_values_to_be_null", title): _NO_NULL_CHECK
        for title in (
            "basic_positive_case_basic_result_format",
            "negative_no_missing_values",
            "positive_mostly",
            "negative_mostly",
            "positive_case_with_mostly_and_no_unexpected_values",
            "negative_case_with_75percent_non_null_values_no_mostly",
        )
    },
    # -- conditional expectations
    (
        "expect_column_value_lengths_to_be_between",
        "test_conditional_expectation_passes",
    ): _ROW_CONDITION,
    (
        "expect_column_value_lengths_to_be_between",
        "test_conditional_expectation_fails",
    ): _ROW_CONDITION,
    (
        "expect_column_value_lengths_to_be_between",
        "test_conditional_expectation_parser_errors",
    ): _ROW_CONDITION,
    ("expect_column_values_to_be_between", "test_conditional_expectation_passes"): _ROW_CONDITION,
    ("expect_column_values_to_be_between", "test_conditional_expectation_fails"): _ROW_CONDITION,
    (
        "expect_column_values_to_be_between",
        "test_conditional_expectation_parser_errors",
    ): _ROW_CONDITION,
    ("expect_column_values_to_be_in_set", "test_conditional_expectation_passes"): _ROW_CONDITION,
    ("expect_column_values_to_be_in_set", "test_conditional_expectation_fails"): _ROW_CONDITION,
    (
        "expect_column_values_to_be_in_set",
        "test_conditional_expectation_parser_errors",
    ): _ROW_CONDITION,
    (
        "expect_compound_columns_to_be_unique",
        "row_condition_with_ignore_if_any_are_missing",
    ): _ROW_CONDITION,
    # -- GX options we do not have
    (
        "expect_compound_columns_to_be_unique",
        "basic_test_ignore_if_any_are_missing",
    ): "ignore_row_if: a compound unique check always compares a row unless all its "
    "columns are null (GX's default, all_values_are_missing); any_value_is_missing "
    "is not a contract option",
    (
        "expect_column_to_exist",
        "positive_test_with_column_order",
    ): "column_index: schema.ordered checks the relative order of the declared columns, "
    "not a column's absolute position",
    (
        "expect_column_to_exist",
        "column_exists_but_wrong_index",
    ): "column_index: schema.ordered checks the relative order of the declared columns, "
    "not a column's absolute position",
    (
        "expect_column_max_to_be_between",
        "datetime_with_evaluation_parameter_except_sqlite",
    ): _EVAL_PARAMETER,
    (
        "expect_column_max_to_be_between",
        "datetime_with_evaluation_parameter_sqlite",
    ): _EVAL_PARAMETER,
    # -- GX quirks: a verdict where a data quality gate should refuse the contract
    (
        "expect_table_row_count_to_be_between",
        "vacuously_true",
    ): "GX quirk: a row count with neither bound passes vacuously, while GX rejects the "
    "same for column between-expectations; our volume section must bound something",
    (
        "expect_table_columns_to_match_ordered_list",
        "null_list_provides_vacuously_true_expectation",
    ): "GX quirk: an ordered column list of null passes vacuously; a contract states the "
    "columns whose order it checks",
    (
        "expect_column_value_lengths_to_be_between",
        "negative_test_with_max_lt_min",
    ): "GX quirk: min_value > max_value is a verdict (false) here, but an error in GX's other "
    "between-expectations; our contract rejects a length range that no value can meet",
    (
        "expect_column_values_to_not_be_in_set",
        "positive_test_values_set_is_null",
    ): "GX quirk: a null in value_set can never match, since value checks ignore nulls, "
    "so the case passes vacuously; our contract rejects null set members (use not_null)",
}

# Per backend: cases GX itself does not run there (only_for / suppress_test_for), and
# cases our engine for that backend cannot map. The runner checks that every case GX
# does not run on a backend is listed here.
BACKEND_SKIPS: dict[str, dict[tuple[str, str], str]] = {
    "pandas": {
        (
            "expect_column_values_to_be_unique",
            "negative_case_all_null_values_bigquery_nones",
        ): _GX_ONLY_FOR.format("bigquery_v3_api"),
        ("expect_column_values_to_be_unique", "positive_integer_column_name"): _GX_ONLY_FOR.format(
            "spark (the whole dataset)"
        ),
        (
            "expect_column_values_to_be_unique",
            "positive_spark_headerless_column_name",
        ): _GX_ONLY_FOR.format("spark (the whole dataset)"),
        ("expect_column_max_to_be_between", "datetime_sqlite"): _GX_ONLY_FOR.format("sqlite"),
        (
            "expect_compound_columns_to_be_unique",
            "unexpected_values_exact_match_out_with_unexpected_index_list_pandas_v2_api",
        ): _GX_ONLY_FOR.format("pandas_v2_api, a runner GX no longer has"),
        (
            "expect_compound_columns_to_be_unique",
            "unexpected_values_exact_match_out_with_unexpected_index_list_pandas_v3",
        ): _GX_ONLY_FOR.format("pandas_v3_api, a runner GX no longer has"),
        **{
            ("expect_column_values_to_match_regex", title): _GX_ONLY_FOR.format("snowflake")
            for title in (
                "negative_test_insufficient_mostly_and_one_non_matching_value__snowflake",
                "positive_test_exact_mostly_w_one_non_matching_value__snowflake",
                "positive_test_column_name_has_space__snowflake",
                "positive_test_sufficient_mostly_w_one_non_matching_value__snowflake",
                "negative_test_one_missing_value_and_insufficent_mostly__snowflake",
                "positive_test_one_missing_value_and_exact_mostly__snowflake",
                "positive_test_one_missing_value_and_sufficent_mostly__snowflake",
                "positive_test_all_missing_values__snowflake",
                "positive_test_all_missing_values_mostly__snowflake",
            )
        },
        (
            "expect_column_values_to_not_be_in_set",
            "value_error_spark_cannot_support_values_set_is_null",
        ): _GX_ONLY_FOR.format("spark_v2_api"),
    },
}


# --------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Dataset:
    name: str
    data: Mapping[str, list[Any]]
    data_alt: Mapping[str, list[Any]] | None
    schemas: Mapping[str, Mapping[str, str]]
    only_for: tuple[str, ...]
    suppress_test_for: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    expectation: str
    title: str
    dataset: Dataset
    args: Mapping[str, Any]
    out: Mapping[str, Any]
    error: Mapping[str, Any] | None
    only_for: tuple[str, ...] = ()
    suppress_test_for: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.expectation, self.title)

    @property
    def id(self) -> str:
        return f"{self.expectation}::{self.title}"

    @property
    def gx_raises(self) -> bool:
        return self.error is not None or "traceback_substring" in self.out


def _as_tuple(value: Any) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)


def load_cases(folder: Path = GX_DIR) -> list[Case]:
    files = sorted(folder.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no GX test definitions in {folder}")
    cases: list[Case] = []
    for path in files:
        spec = json.loads(path.read_text(encoding="utf-8"))
        expectation = spec["expectation_type"]
        if path.stem != expectation:
            raise ValueError(f"{path.name} defines {expectation}")
        for index, raw_dataset in enumerate(spec["datasets"], 1):
            dataset = Dataset(
                name=raw_dataset.get("dataset_name", f"{expectation}_{index}"),
                data=raw_dataset["data"],
                data_alt=raw_dataset.get("data_alt"),
                schemas=raw_dataset.get("schemas") or {},
                only_for=_as_tuple(raw_dataset.get("only_for")),
                suppress_test_for=_as_tuple(raw_dataset.get("suppress_test_for")),
            )
            for test in raw_dataset["tests"]:
                cases.append(
                    Case(
                        expectation=expectation,
                        title=test["title"],
                        dataset=dataset,
                        args=test["in"],
                        out=test.get("out") or {},
                        error=test.get("error"),
                        only_for=_as_tuple(test.get("only_for")),
                        suppress_test_for=_as_tuple(test.get("suppress_test_for")),
                        raw=test,
                    )
                )
    return cases


CASES = load_cases()


def _matches(backends: tuple[str, ...], backend: str) -> bool:
    return backend in backends or ("sqlalchemy" in backends and backend in SQL_BACKENDS)


def gx_runs(case: Case, backend: str) -> bool:
    """Whether GX's own runner runs this case on this backend (dataset-level and
    case-level ``only_for`` / ``suppress_test_for``, as its v3 test runner reads them)."""
    dataset = case.dataset
    if dataset.suppress_test_for and backend in dataset.suppress_test_for:
        return False
    if dataset.only_for and backend not in dataset.only_for:
        return False
    if case.suppress_test_for and _matches(case.suppress_test_for, backend):
        return False
    return not case.only_for or _matches(case.only_for, backend)


def skip_reason(case: Case, backend: str) -> str | None:
    return SKIPS.get(case.key) or BACKEND_SKIPS.get(backend, {}).get(case.key)


# --------------------------------------------------------------------------- datasets


def _to_datetime(series: pd.Series, *, utc: bool = False) -> pd.Series:
    # GX's execute_pandas_to_datetime on pandas >= 2.
    return pd.to_datetime(series, format="mixed", utc=utc)


def build_dataframe(data: Mapping[str, list[Any]], schemas: Mapping[str, Any]) -> pd.DataFrame:
    """The DataFrame GX's runner builds (self_check.util._get_test_validator_with_data_pandas):
    pandas infers the types unless the dataset gives a ``pandas`` schema."""
    df = pd.DataFrame({name: list(values) for name, values in data.items()})
    schema = schemas.get("pandas")
    if not schema:
        return df
    types: dict[str, Any] = {}
    for name, kind in schema.items():
        lower = kind.lower()
        if lower in ("timestamp", "datetime64[ns, tz]"):
            df[name] = _to_datetime(df[name], utc=True)
            continue
        if lower in ("datetime", "datetime64", "datetime64[ns]"):
            df[name] = _to_datetime(df[name])
            continue
        if lower == "date":
            df[name] = _to_datetime(df[name]).dt.date
            kind = "object"
        try:
            types[name] = np.dtype(kind)
        except TypeError:
            types[name] = getattr(pd, kind)()
    return df.astype(types)


def dataset_frame(dataset: Dataset) -> pd.DataFrame:
    try:
        return build_dataframe(dataset.data, dataset.schemas)
    except Exception:
        # GX's runner falls back on data_alt when the data cannot be built.
        if dataset.data_alt is None:
            raise
        return build_dataframe(dataset.data_alt, dataset.schemas)


@contextmanager
def pandas_data(dataset: Dataset) -> Iterator[Any]:
    yield dataset_frame(dataset)


# backend -> a context manager that yields what validate(data=...) checks (and, for a
# database, drops the table it loaded on exit)
LOADERS: dict[str, Callable[[Dataset], AbstractContextManager[Any]]] = {"pandas": pandas_data}


# --------------------------------------------------------------------------- mapping


class Unmappable(Exception):
    """The case uses something our contract cannot express: list it in SKIPS."""


# Arguments that do not change GX's verdict.
NEUTRAL_ARGS = frozenset({"result_format", "catch_exceptions", "include_config", "meta"})


@dataclass(frozen=True)
class Mapped:
    contract: dict[str, Any]
    check_type: str  # the result type our verdict is read from


def _take(args: Mapping[str, Any], known: set[str]) -> dict[str, Any]:
    unknown = set(args) - known - NEUTRAL_ARGS
    if unknown:
        raise Unmappable(f"arguments with no contract equivalent: {sorted(unknown)}")
    for name, value in args.items():
        if isinstance(value, dict) and "$PARAMETER" in value:
            raise Unmappable(f"{name} is a GX suite parameter")
    return {k: v for k, v in args.items() if k in known}


def _put(target: dict[str, Any], args: Mapping[str, Any], pairs: Mapping[str, str]) -> None:
    """Copy GX arguments that are present onto our keys (a missing one stays missing, so
    that our contract, not the mapping, decides what a missing argument means)."""
    for gx_name, our_name in pairs.items():
        if gx_name in args:
            target[our_name] = args[gx_name]


def _check(check_type: str, args: Mapping[str, Any], pairs: Mapping[str, str]) -> Mapped:
    check: dict[str, Any] = {"type": check_type}
    _put(check, args, {"column": "column", "mostly": "mostly", **pairs})
    return Mapped({"checks": [check]}, check_type)


_BETWEEN = {
    "min_value": "min",
    "max_value": "max",
    "strict_min": "strict_min",
    "strict_max": "strict_max",
}


def _map_not_null(args: Mapping[str, Any]) -> Mapped:
    return _check("not_null", _take(args, {"column", "mostly"}), {})


def _map_unique(args: Mapping[str, Any]) -> Mapped:
    return _check("unique", _take(args, {"column", "mostly"}), {})


def _map_compound_unique(args: Mapping[str, Any]) -> Mapped:
    taken = _take(args, {"column_list", "mostly", "ignore_row_if"})
    if taken.get("ignore_row_if", "all_values_are_missing") != "all_values_are_missing":
        raise Unmappable(f"ignore_row_if={taken['ignore_row_if']}")
    return _check("unique", taken, {"column_list": "columns"})


def _map_between(args: Mapping[str, Any]) -> Mapped:
    return _check("range", _take(args, {"column", "mostly", *_BETWEEN}), _BETWEEN)


def _map_statistic(statistic: str) -> Callable[[Mapping[str, Any]], Mapped]:
    def mapper(args: Mapping[str, Any]) -> Mapped:
        mapped = _check("statistic", _take(args, {"column", *_BETWEEN}), _BETWEEN)
        mapped.contract["checks"][0]["statistic"] = statistic
        return mapped

    return mapper


def _map_in_set(check_type: str) -> Callable[[Mapping[str, Any]], Mapped]:
    def mapper(args: Mapping[str, Any]) -> Mapped:
        taken = _take(args, {"column", "mostly", "value_set"})
        return _check(check_type, taken, {"value_set": "values"})

    return mapper


def _map_regex(args: Mapping[str, Any]) -> Mapped:
    return _check("pattern", _take(args, {"column", "mostly", "regex"}), {"regex": "pattern"})


def _map_lengths(args: Mapping[str, Any]) -> Mapped:
    taken = _take(args, {"column", "mostly", "min_value", "max_value"})
    return _check("length", taken, {"min_value": "min_length", "max_value": "max_length"})


def _map_row_count(args: Mapping[str, Any]) -> Mapped:
    taken = _take(args, {"min_value", "max_value"})
    if taken.get("min_value") is None and taken.get("max_value") is None:
        raise Unmappable("no bound at all")
    volume: dict[str, Any] = {}
    _put(volume, taken, {"min_value": "min_rows", "max_value": "max_rows"})
    return Mapped({"volume": volume}, "volume")


def _columns(names: Any) -> list[Any]:
    return [{"name": name} for name in names]


def _map_column_exists(args: Mapping[str, Any]) -> Mapped:
    taken = _take(args, {"column"})
    return Mapped(
        {"schema": {"columns": _columns([taken.get("column")]), "extra_columns": "allow"}},
        "schema",
    )


def _map_ordered_list(args: Mapping[str, Any]) -> Mapped:
    taken = _take(args, {"column_list"})
    if taken.get("column_list") is None:
        raise Unmappable("no column list")
    schema = {"columns": _columns(taken["column_list"]), "extra_columns": "fail", "ordered": True}
    return Mapped({"schema": schema}, "schema")


def _map_column_set(args: Mapping[str, Any]) -> Mapped:
    taken = _take(args, {"column_set", "exact_match"})
    # No set: no column is required; with exact_match every column is then extra.
    names = taken.get("column_set") or []
    extra = "fail" if taken.get("exact_match", True) else "allow"
    return Mapped({"schema": {"columns": _columns(names), "extra_columns": extra}}, "schema")


def _unmappable(reason: str) -> Callable[[Mapping[str, Any]], Mapped]:
    def mapper(args: Mapping[str, Any]) -> Mapped:
        raise Unmappable(reason)

    return mapper


MAPPERS: dict[str, Callable[[Mapping[str, Any]], Mapped]] = {
    "expect_column_values_to_not_be_null": _map_not_null,
    "expect_column_values_to_be_null": _unmappable("no check asserts that values are null"),
    "expect_column_values_to_be_unique": _map_unique,
    "expect_compound_columns_to_be_unique": _map_compound_unique,
    "expect_column_values_to_be_between": _map_between,
    "expect_column_min_to_be_between": _map_statistic("min"),
    "expect_column_max_to_be_between": _map_statistic("max"),
    "expect_column_values_to_be_in_set": _map_in_set("allowed"),
    "expect_column_values_to_not_be_in_set": _map_in_set("not_allowed"),
    "expect_column_values_to_match_regex": _map_regex,
    "expect_column_value_lengths_to_be_between": _map_lengths,
    "expect_table_row_count_to_be_between": _map_row_count,
    "expect_column_to_exist": _map_column_exists,
    "expect_table_columns_to_match_ordered_list": _map_ordered_list,
    "expect_table_columns_to_match_set": _map_column_set,
}


def to_contract(case: Case) -> Mapped:
    mapper = MAPPERS.get(case.expectation)
    if mapper is None:
        raise Unmappable(f"no mapping for {case.expectation}")
    args = dict(case.args)
    if "row_condition" in args or "condition_parser" in args:
        raise Unmappable("row_condition")
    mapped = mapper(args)
    mapped.contract["dataset"] = case.dataset.name
    return mapped


# --------------------------------------------------------------------------- verdicts


def our_verdict(result: GateResult, mapped: Mapped) -> str:
    """pass, fail or error, read from the checks the mapping produced."""
    assert result.error is None, f"the data could not be read: {result.error}"
    checks = [c for c in result.checks if c.type == mapped.check_type]
    others = [c for c in result.checks if c.type != mapped.check_type]
    assert not others, f"the contract made unexpected checks: {others}"
    if mapped.check_type not in ("schema",):
        assert len(checks) == 1, f"expected one {mapped.check_type} check, got {checks}"
    statuses = {c.status for c in checks}
    assert "warn" not in statuses, "no check of this suite has severity warn"
    if "error" in statuses:
        return "error"
    return "fail" if "fail" in statuses else "pass"


def describe(result: GateResult) -> str:
    return "; ".join(f"{c.name}: {c.status}: {c.message}" for c in result.checks) or "no checks"


# --------------------------------------------------------------------------- the tests


def _params() -> list[Any]:
    return [pytest.param(case, id=case.id) for case in CASES]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", _params())
def test_gx_case(case: Case, backend: str) -> None:
    reason = skip_reason(case, backend)
    if reason is not None:
        pytest.skip(reason)
    if not gx_runs(case, backend):
        pytest.fail(
            f"GX does not run {case.id} on {backend} (only_for={case.only_for or None}, "
            f"suppress_test_for={case.suppress_test_for or None}, dataset only_for="
            f"{case.dataset.only_for or None}): list it in BACKEND_SKIPS[{backend!r}]"
        )
    try:
        mapped = to_contract(case)
    except Unmappable as exc:
        pytest.fail(f"{case.id} cannot map onto a contract ({exc}): list it in SKIPS")

    with LOADERS[backend](case.dataset) as data:
        try:
            result = validate(mapped.contract, data=data, now=NOW)
        except ContractError as exc:
            assert case.gx_raises, (
                f"GX gives success={case.out.get('success')}, but our contract was rejected: {exc}"
            )
            return

    verdict = our_verdict(result, mapped)
    if case.gx_raises:
        expected = (case.error or case.out).get("traceback_substring")
        assert verdict == "error", (
            f"GX raises ({expected!r}); our contract was accepted and the check "
            f"{verdict}ed: {describe(result)}"
        )
        return
    assert "success" in case.out, f"{case.id} has neither out.success nor an error"
    wanted = "pass" if case.out["success"] else "fail"
    assert verdict == wanted, f"GX: {wanted}; ours: {verdict}: {describe(result)}"


# --------------------------------------------------------------------------- the tables


def test_cases_are_unique_and_present() -> None:
    keys = [case.key for case in CASES]
    assert len(keys) == len(set(keys)), "two GX cases share a title"
    assert len(CASES) > 100, f"only {len(CASES)} GX cases were found in {GX_DIR}"


def test_skip_tables_name_existing_cases() -> None:
    """A listed case that no longer exists (a renamed title) is a stale entry."""
    known = {case.key for case in CASES}
    stale = [key for key in SKIPS if key not in known]
    for backend, table in BACKEND_SKIPS.items():
        stale += [(backend, *key) for key in table if key not in known]
    assert not stale, f"skip entries that name no GX case: {stale}"


def test_skip_tables_do_not_overlap() -> None:
    for backend, table in BACKEND_SKIPS.items():
        both = set(table) & set(SKIPS)
        assert not both, f"listed both in SKIPS and BACKEND_SKIPS[{backend!r}]: {both}"


def test_every_backend_has_a_loader() -> None:
    assert BACKENDS, "no backend to run the conformance cases on"
    assert set(BACKENDS) <= set(LOADERS)


def test_gx_only_for_skips_match_gx() -> None:
    """A case skipped as "GX does not run it here" must really be one GX does not run."""
    for backend, table in BACKEND_SKIPS.items():
        for case in CASES:
            reason = table.get(case.key)
            if reason is not None and reason.startswith("GX "):
                assert not gx_runs(case, backend), f"GX does run {case.id} on {backend}"
