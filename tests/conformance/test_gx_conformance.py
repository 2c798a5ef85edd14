"""Conformance with Great Expectations: GX's own test definitions, run against our checks.

The JSON files in ``gx_definitions/`` beside this module are GX's own, copied unchanged
(source and licence in the README there).
For every case the runner builds the dataset the way GX's own runner does, maps the
expectation onto one of our contracts, runs :func:`validate` and compares our verdict
with GX's ``out.success``:

* GX succeeds / fails  ->  our mapped checks pass / fail;
* GX raises (``error``, or ``out.traceback_substring``)  ->  our contract is rejected
  (:class:`ContractError`) or the mapped check reports status ``error``.

A case that cannot map onto our checks is listed by title in ``SKIPS`` (every backend)
or ``BACKEND_SKIPS`` (one backend) with the reason beside it. A case that is neither run
nor listed fails the suite, and so does a listed case that no longer exists.

Backends: ``BACKENDS`` is the one parameter that says where the cases run; ``LOADERS``
says how each gets its data. ``pandas`` hands validate() the DataFrame GX's runner would
build. ``sqlite`` and ``postgresql`` load the dataset into a fresh table the way GX's
runner does (typed by the dataset's ``schemas`` for that backend) and hand validate() the
database URL and the table. PostgreSQL uses the session database of ``tests/conftest.py``
and skips without a server (fails, with OPSGUARD_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from airflow_opsguard import ContractError, GateResult, validate
from airflow_opsguard.gx.mapping import Fragment as Mapped
from airflow_opsguard.gx.mapping import Unmappable, expectation_fragment

GX_DIR = Path(__file__).resolve().with_name("gx_definitions")
if not GX_DIR.is_dir():  # fail the collection loudly: a missing suite must never pass
    raise FileNotFoundError(f"the GX conformance definitions are missing: {GX_DIR}")

NOW = datetime(2026, 1, 1, tzinfo=UTC)

# The backends every case runs on. Each needs a loader in LOADERS and a table in
# BACKEND_SKIPS below.
BACKENDS: tuple[str, ...] = ("pandas", "sqlite", "postgresql")
BACKEND_MARKS = {"postgresql": pytest.mark.postgres}

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
# Every reason starts with its category: "row_condition", "no check kind", "GX option",
# "$PARAMETER", "GX quirk", "GX only_for" or "GX suppress_test_for".
#
# GX's own runner (tests/test_definitions/test_expectations_v3_api.py) reads "only_for" and
# "suppress_test_for" on datasets and cases, and compares "out" with the result; a case
# with an "error" key and an empty "out" asserts nothing there. Here such a case must be
# rejected by our contract or report status error.

ROW_CONDITION = "row_condition: our checks have no row filter (GX conditional expectations)"
NO_NULL_CHECK = "no check kind: no check of ours asserts that values ARE null (only not_null)"
COLUMN_INDEX = (
    "GX option column_index: schema.ordered checks the relative order of the declared "
    "columns, not a column's absolute position"
)
ANY_VALUE_MISSING = (
    "GX option ignore_row_if=any_value_is_missing: a compound unique check compares a row "
    "unless all its columns are null (GX's default, all_values_are_missing), always"
)
SUITE_PARAMETER = "$PARAMETER: GX suite parameters (evaluated expressions) are not contract values"
ROWS_UNBOUNDED = (
    "GX quirk: a row count with neither bound passes vacuously, although GX rejects the same "
    "for its column between-expectations; our volume section must bound something"
)
NULL_ORDERED_LIST = (
    "GX quirk: an ordered column list of null passes vacuously; our schema states the "
    "columns whose order it checks"
)
LENGTHS_INVERTED = (
    "GX quirk: min_value > max_value is a verdict (false) here but an error in GX's other "
    "between-expectations; our contract rejects a length range no value can meet"
)
NULL_IN_SET = (
    "GX quirk: a null in value_set never matches, since value checks ignore nulls, so the "
    "case passes vacuously; our contract rejects null set members (use not_null)"
)


def gx_only_for(backends: str) -> str:
    return f"GX only_for: GX runs this case only on {backends}"


def gx_suppressed(what: str) -> str:
    return f"GX suppress_test_for: GX does not run this case on {what}"


NULL = "expect_column_values_to_be_null"
LENGTHS = "expect_column_value_lengths_to_be_between"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
NOT_IN_SET = "expect_column_values_to_not_be_in_set"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND = "expect_compound_columns_to_be_unique"
REGEX = "expect_column_values_to_match_regex"
MAX = "expect_column_max_to_be_between"
EXISTS = "expect_column_to_exist"
ROW_COUNT = "expect_table_row_count_to_be_between"
ORDERED = "expect_table_columns_to_match_ordered_list"

# Cases skipped on every backend.
SKIPS: dict[tuple[str, str], str] = {
    (NULL, "basic_positive_case_basic_result_format"): NO_NULL_CHECK,
    (NULL, "negative_no_missing_values"): NO_NULL_CHECK,
    (NULL, "positive_mostly"): NO_NULL_CHECK,
    (NULL, "negative_mostly"): NO_NULL_CHECK,
    (NULL, "positive_case_with_mostly_and_no_unexpected_values"): NO_NULL_CHECK,
    (NULL, "negative_case_with_75percent_non_null_values_no_mostly"): NO_NULL_CHECK,
    (LENGTHS, "test_conditional_expectation_passes"): ROW_CONDITION,
    (LENGTHS, "test_conditional_expectation_fails"): ROW_CONDITION,
    (LENGTHS, "test_conditional_expectation_parser_errors"): ROW_CONDITION,
    (BETWEEN, "test_conditional_expectation_passes"): ROW_CONDITION,
    (BETWEEN, "test_conditional_expectation_fails"): ROW_CONDITION,
    (BETWEEN, "test_conditional_expectation_parser_errors"): ROW_CONDITION,
    (IN_SET, "test_conditional_expectation_passes"): ROW_CONDITION,
    (IN_SET, "test_conditional_expectation_fails"): ROW_CONDITION,
    (IN_SET, "test_conditional_expectation_parser_errors"): ROW_CONDITION,
    (COMPOUND, "row_condition_with_ignore_if_any_are_missing"): ROW_CONDITION,
    (COMPOUND, "basic_test_ignore_if_any_are_missing"): ANY_VALUE_MISSING,
    (EXISTS, "positive_test_with_column_order"): COLUMN_INDEX,
    (EXISTS, "column_exists_but_wrong_index"): COLUMN_INDEX,
    (MAX, "datetime_with_evaluation_parameter_except_sqlite"): SUITE_PARAMETER,
    (MAX, "datetime_with_evaluation_parameter_sqlite"): SUITE_PARAMETER,
    (ROW_COUNT, "vacuously_true"): ROWS_UNBOUNDED,
    (ORDERED, "null_list_provides_vacuously_true_expectation"): NULL_ORDERED_LIST,
    (LENGTHS, "negative_test_with_max_lt_min"): LENGTHS_INVERTED,
    (NOT_IN_SET, "positive_test_values_set_is_null"): NULL_IN_SET,
    # GX runs these on none of our backends (pandas, sqlite, postgresql).
    (UNIQUE, "negative_case_all_null_values_bigquery_nones"): gx_only_for("bigquery_v3_api"),
    (UNIQUE, "positive_integer_column_name"): gx_only_for("spark (the dataset's only_for)"),
    (UNIQUE, "positive_spark_headerless_column_name"): gx_only_for(
        "spark (the dataset's only_for)"
    ),
    (NOT_IN_SET, "value_error_spark_cannot_support_values_set_is_null"): gx_only_for(
        "spark_v2_api"
    ),
    (
        COMPOUND,
        "unexpected_values_exact_match_out_with_unexpected_index_list_pandas_v2_api",
    ): gx_only_for("pandas_v2_api, a runner GX no longer has"),
    (
        COMPOUND,
        "unexpected_values_exact_match_out_with_unexpected_index_list_pandas_v3",
    ): gx_only_for("pandas_v3_api, a runner GX no longer has"),
    (
        REGEX,
        "negative_test_insufficient_mostly_and_one_non_matching_value__snowflake",
    ): gx_only_for("snowflake"),
    (REGEX, "positive_test_exact_mostly_w_one_non_matching_value__snowflake"): gx_only_for(
        "snowflake"
    ),
    (REGEX, "positive_test_column_name_has_space__snowflake"): gx_only_for("snowflake"),
    (
        REGEX,
        "positive_test_sufficient_mostly_w_one_non_matching_value__snowflake",
    ): gx_only_for("snowflake"),
    (REGEX, "negative_test_one_missing_value_and_insufficent_mostly__snowflake"): gx_only_for(
        "snowflake"
    ),
    (REGEX, "positive_test_one_missing_value_and_exact_mostly__snowflake"): gx_only_for(
        "snowflake"
    ),
    (REGEX, "positive_test_one_missing_value_and_sufficent_mostly__snowflake"): gx_only_for(
        "snowflake"
    ),
    (REGEX, "positive_test_all_missing_values__snowflake"): gx_only_for("snowflake"),
    (REGEX, "positive_test_all_missing_values_mostly__snowflake"): gx_only_for("snowflake"),
}

# Cases skipped on one backend: those GX itself does not run there (the runner checks that
# each of them is listed), and those our engine for that backend cannot map. The SQL
# backends are listed ahead of their being switched on in BACKENDS.
_ONLY_PANDAS = gx_only_for("pandas")
# GX's runner asserts nothing for a case whose "error" sits beside an empty "out".
_TEXT_ONLY_IN_PANDAS = (
    "GX quirk: the error is pandas's (text values against numeric bounds); this backend's "
    "schema makes 'numeric' an INTEGER column, where the bounds hold, and GX's runner "
    "asserts nothing for a case with an 'error' and an empty 'out'"
)
_REGEX_NOT_ON_SQLITE = gx_suppressed("sqlite (the whole dataset)")
BACKEND_SKIPS: dict[str, dict[tuple[str, str], str]] = {
    "pandas": {
        (MAX, "datetime_sqlite"): gx_only_for("sqlite"),
    },
    "sqlite": {
        (BETWEEN, "error_on_string-to-int_comparisons"): _TEXT_ONLY_IN_PANDAS,
        (MAX, "datetime_except_sqlite"): gx_suppressed("sqlite"),
        (
            UNIQUE,
            "multi_type_column_contains_2_and_quoted_2_suppressed_for_sqalchemy",
        ): gx_suppressed("sqlalchemy"),
        (
            NOT_IN_SET,
            "negative_test_float_set_two_out_of_three_column_values_included_mostly_summary_output",
        ): _ONLY_PANDAS,
        (COMPOUND, "unexpected_values_with_unexpected_index_list"): _ONLY_PANDAS,
        (
            REGEX,
            "negative_test_insufficient_mostly_and_one_non_matching_value",
        ): _REGEX_NOT_ON_SQLITE,
        (
            REGEX,
            "negative_test_insufficient_mostly_and_one_non_matching_value_summary_output",
        ): _REGEX_NOT_ON_SQLITE,
        (REGEX, "positive_test_exact_mostly_w_one_non_matching_value"): _REGEX_NOT_ON_SQLITE,
        (REGEX, "positive_test_column_name_has_space"): _REGEX_NOT_ON_SQLITE,
        (REGEX, "positive_test_sufficient_mostly_w_one_non_matching_value"): _REGEX_NOT_ON_SQLITE,
        (REGEX, "negative_test_one_missing_value_and_insufficent_mostly"): _REGEX_NOT_ON_SQLITE,
        (REGEX, "positive_test_one_missing_value_and_exact_mostly"): _REGEX_NOT_ON_SQLITE,
        (REGEX, "positive_test_one_missing_value_and_sufficent_mostly"): _REGEX_NOT_ON_SQLITE,
        (REGEX, "positive_test_all_missing_values"): _REGEX_NOT_ON_SQLITE,
        (REGEX, "positive_test_all_missing_values_mostly"): _REGEX_NOT_ON_SQLITE,
        (REGEX, "positive_test_empty_regex"): _REGEX_NOT_ON_SQLITE,
        (REGEX, "positive_test_more_complicated_regex"): _REGEX_NOT_ON_SQLITE,
        (
            REGEX,
            "positive_test_match_characters_not_at_the_beginning_of_string",
        ): _REGEX_NOT_ON_SQLITE,
    },
    "postgresql": {
        (BETWEEN, "error_on_string-to-int_comparisons"): _TEXT_ONLY_IN_PANDAS,
        (MAX, "datetime_sqlite"): gx_only_for("sqlite"),
        (
            UNIQUE,
            "multi_type_column_contains_2_and_quoted_2_suppressed_for_sqalchemy",
        ): gx_suppressed("sqlalchemy"),
        (
            NOT_IN_SET,
            "negative_test_float_set_two_out_of_three_column_values_included_mostly_summary_output",
        ): _ONLY_PANDAS,
        (COMPOUND, "unexpected_values_with_unexpected_index_list"): _ONLY_PANDAS,
        (
            REGEX,
            "negative_test_insufficient_mostly_and_one_non_matching_value_summary_output",
        ): _ONLY_PANDAS,
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


# A loader puts a dataset where a backend reads it and yields the keyword arguments that
# point validate() at it; on exit it removes what it made. It may ask pytest for fixtures
# (a database server) through ``request``.
Loader = Callable[[Dataset, pytest.FixtureRequest], AbstractContextManager[dict[str, Any]]]


@contextmanager
def pandas_data(dataset: Dataset, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    yield {"data": dataset_frame(dataset)}


# GX's SQL schema types, as its runner converts the DataFrame's values before loading them
# (self_check.util.build_sa_validator_with_data).
_SQL_INTEGERS = frozenset({"INTEGER", "SMALLINT", "BIGINT", "NUMBER"})
_SQL_FLOATS = frozenset({"FLOAT", "DOUBLE", "DOUBLE_PRECISION"})
_SQL_TEMPORAL = frozenset(
    {"DATETIME", "TIMESTAMP", "DATE", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ"}
)
_SQL_TEXT = frozenset({"VARCHAR", "STRING"})


def sql_frame(dataset: Dataset, backend: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The DataFrame GX's runner loads into a table on ``backend``, and its column types.

    Without a schema for the backend, pandas infers the types and ``to_sql`` maps them. With
    one, the values are converted as GX converts them, quirks included: a VARCHAR column's
    values become ``str(value)``, so a null is loaded as the text 'None'.
    """
    import importlib

    df = pd.DataFrame({name: list(values) for name, values in dataset.data.items()})
    schema = dataset.schemas.get(backend)
    if not schema:
        return df, {}
    dialect = importlib.import_module(f"sqlalchemy.dialects.{backend}")
    types: dict[str, Any] = {}
    for name, kind in schema.items():
        types[name] = getattr(dialect, kind)
        if kind in _SQL_INTEGERS:
            df[name] = pd.to_numeric(df[name], downcast="signed")
        elif kind in _SQL_FLOATS:
            df[name] = pd.to_numeric(df[name])
        elif kind in _SQL_TEMPORAL:
            df[name] = _to_datetime(df[name])
        elif kind in _SQL_TEXT:
            df[name] = df[name].apply(str)
    return df, types


@contextmanager
def sql_table(url: str, dataset: Dataset, backend: str) -> Iterator[str]:
    """Load the dataset into a fresh table of the database at ``url``; drop it on exit."""
    import uuid

    import sqlalchemy as sa

    name = f"gx_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url)
    try:
        df, types = sql_frame(dataset, backend)
        with engine.begin() as connection:
            df.to_sql(name, connection, index=False, dtype=types)
        try:
            yield name
        finally:
            with engine.begin() as connection:
                connection.execute(sa.text(f'DROP TABLE IF EXISTS "{name}"'))
    finally:
        engine.dispose()


@contextmanager
def sqlite_data(dataset: Dataset, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    folder = request.getfixturevalue("tmp_path")
    url = f"sqlite:///{folder / 'gx.db'}"
    with sql_table(url, dataset, "sqlite") as table:
        yield {"data": url, "table": table}


@contextmanager
def postgresql_data(dataset: Dataset, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    url = request.getfixturevalue("postgres_url")  # skips when the server is not there
    with sql_table(url, dataset, "postgresql") as table:
        yield {"data": url, "table": table}


LOADERS: dict[str, Loader] = {
    "pandas": pandas_data,
    "sqlite": sqlite_data,
    "postgresql": postgresql_data,
}


# --------------------------------------------------------------------------- mapping
# The mapping is the package's own (airflow_opsguard.gx.mapping), the one opsguard
# import-gx uses: these cases test it against GX's verdicts.


def to_contract(case: Case) -> Mapped:
    mapped = expectation_fragment(case.expectation, case.args)
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


@pytest.mark.parametrize(
    "backend", [pytest.param(b, marks=BACKEND_MARKS.get(b, ()), id=b) for b in BACKENDS]
)
@pytest.mark.parametrize("case", _params())
def test_gx_case(case: Case, backend: str, request: pytest.FixtureRequest) -> None:
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

    rejection: str | None = None
    with LOADERS[backend](case.dataset, request) as target:
        try:
            result = validate(mapped.contract, now=NOW, **target)
        except ContractError as exc:
            rejection = str(exc)
    if rejection is not None:
        assert case.gx_raises, (
            f"GX gives success={case.out.get('success')}, but our contract was rejected: "
            f"{rejection}"
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


def test_every_backend_has_a_loader_and_a_table() -> None:
    assert BACKENDS, "no backend to run the conformance cases on"
    assert set(BACKENDS) <= set(LOADERS)
    assert set(BACKENDS) <= set(BACKEND_SKIPS)


def test_gx_skips_match_what_gx_runs() -> None:
    """A case skipped as "GX does not run it" must really be one GX does not run there, and
    every case GX does not run on a backend of ours must be listed for it."""
    for case in CASES:
        reason = SKIPS.get(case.key, "")
        if reason.startswith("GX only_for") or reason.startswith("GX suppress"):
            ours = [b for b in BACKEND_SKIPS if gx_runs(case, b)]
            assert not ours, f"GX does run {case.id} on {ours}"
        for backend, table in BACKEND_SKIPS.items():
            reason = table.get(case.key, "")
            if reason.startswith("GX only_for") or reason.startswith("GX suppress"):
                assert not gx_runs(case, backend), f"GX does run {case.id} on {backend}"
            if not gx_runs(case, backend):
                assert skip_reason(case, backend), f"{case.id} is not listed for {backend}"


def _datasets_for(backend: str) -> list[Dataset]:
    """The datasets GX loads on a backend: those with a case GX runs there."""
    found: dict[int, Dataset] = {}
    for case in CASES:
        if gx_runs(case, backend):
            found.setdefault(id(case.dataset), case.dataset)
    return list(found.values())


def _check_sql_loader(url: str, backend: str) -> None:
    import sqlalchemy as sa

    datasets = _datasets_for(backend)
    assert datasets
    engine = sa.create_engine(url)
    try:
        for dataset in datasets:
            with sql_table(url, dataset, backend) as table:
                with engine.connect() as connection:
                    rows = connection.execute(sa.text(f'SELECT COUNT(*) FROM "{table}"')).scalar()
                    columns = sa.inspect(connection).get_columns(table)
                assert rows == len(next(iter(dataset.data.values()))), dataset.name
                assert [c["name"] for c in columns] == list(dataset.data), dataset.name
                declared = dataset.schemas.get(backend) or {}
                for column in columns:
                    kind = declared.get(column["name"])
                    if kind is not None:
                        reflected = type(column["type"]).__name__.upper()
                        assert reflected == kind, (dataset.name, column["name"], reflected)
            with engine.connect() as connection:
                assert not sa.inspect(connection).has_table(table), "the table was not dropped"
    finally:
        engine.dispose()


def test_sql_loader_builds_gx_tables_on_sqlite(tmp_path: Path) -> None:
    _check_sql_loader(f"sqlite:///{tmp_path / 'gx.db'}", "sqlite")


@pytest.mark.postgres
def test_sql_loader_builds_gx_tables_on_postgresql(postgres_url: str) -> None:
    _check_sql_loader(postgres_url, "postgresql")
