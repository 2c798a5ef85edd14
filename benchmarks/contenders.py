"""The three ways of checking the same file, each returning the same numbers.

Every contender answers the same questions about the same Parquet file: the row count,
nulls, duplicated ids, out-of-range amounts, values outside a set, bad lengths, bad
emails and the newest timestamp. The numbers are compared after every run, so a fast
but wrong contender cannot win.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.agreement import (
    AMOUNT_MAX,
    AMOUNT_MIN,
    COLUMNS,
    COUNTRIES,
    EMAIL_PATTERN,
    FAIL_AFTER,
    MAX_ROWS,
    MIN_ROWS,
    NOW,
    OUR_COUNTS,
    STATUSES,
    Numbers,
    gx_numbers,
    orders_contract,
)

CONTRACT: dict[str, Any] = orders_contract()


@dataclass
class Timing:
    """One timed run: the whole check, and (for GX) its validation step alone."""

    seconds: float
    validate_seconds: float | None = None


Contender = Callable[[Path], tuple[Timing, Numbers]]


# --------------------------------------------------------------------------- ours


def opsguard_contract() -> Any:
    from airflow_opsguard import load_contract

    return load_contract(CONTRACT)


def run_opsguard(path: Path, contract: Any = None) -> tuple[Timing, Numbers]:
    from airflow_opsguard import validate

    started = time.perf_counter()
    result = validate(contract if contract is not None else CONTRACT, data=str(path), now=NOW)
    elapsed = time.perf_counter() - started
    return Timing(elapsed), opsguard_numbers(result)


def opsguard_numbers(result: Any, counts: dict[str, str] = OUR_COUNTS) -> Numbers:
    """The numbers of an opsguard verdict: its rows, each check's failing count under
    the name ``counts`` maps it to, the newest timestamp, and whether the schema held.
    Raises when anything could not be measured."""
    if result.status == "error":
        raise RuntimeError(f"opsguard could not check the data: {result.error}")
    checks = {c.name: c for c in result.checks}
    errors = [f"{c.name}: {c.message}" for c in result.checks if c.status == "error"]
    if errors:
        raise RuntimeError("opsguard could not measure: " + "; ".join(errors))
    numbers: Numbers = {"rows": result.rows}
    for name, key in counts.items():
        numbers[key] = checks[name].failing_count
    newest = checks["freshness(created_at)"].metrics["newest"]
    numbers["newest(created_at)"] = datetime.fromisoformat(newest).replace(tzinfo=None)
    numbers["schema_ok"] = all(c.status == "pass" for c in result.checks if c.type == "schema")
    return numbers


# --------------------------------------------------------------------------- pandas


def run_pandas(path: Path) -> tuple[Timing, Numbers]:
    """What a data engineer would write by hand: read the file, count with pandas."""
    import pandas as pd

    started = time.perf_counter()
    df = pd.read_parquet(path)
    amount, country, email, status = df["amount"], df["country"], df["email"], df["status"]
    nulls = df[["order_id", "amount", "created_at"]].isna().sum()
    lengths = country.str.len()
    numbers: Numbers = {
        "rows": len(df),
        "nulls(order_id)": int(nulls["order_id"]),
        "nulls(amount)": int(nulls["amount"]),
        "nulls(created_at)": int(nulls["created_at"]),
        "duplicated_rows(order_id)": int(df["order_id"].duplicated(keep=False).sum()),
        "out_of_range(amount)": int(
            (amount.notna() & ~amount.between(AMOUNT_MIN, AMOUNT_MAX)).sum()
        ),
        "not_in_set(country)": int((country.notna() & ~country.isin(COUNTRIES)).sum()),
        "bad_length(country)": int((country.notna() & ~lengths.between(2, 2)).sum()),
        "no_match(email)": int(
            (email.notna() & ~email.str.contains(EMAIL_PATTERN, regex=True, na=True)).sum()
        ),
        "not_in_set(status)": int((status.notna() & ~status.isin(STATUSES)).sum()),
        "newest(created_at)": df["created_at"].max().to_pydatetime(),
        "schema_ok": list(df.columns) == list(COLUMNS)
        and str(df["order_id"].dtype) == "int64"
        and str(df["amount"].dtype) == "float64",
    }
    elapsed = time.perf_counter() - started
    return Timing(elapsed), numbers


# --------------------------------------------------------------------------- GX


class GreatExpectations:
    """GX 1.x, set up once per process as a long-running service would be: an ephemeral
    context, a pandas datasource, a whole-DataFrame batch definition, the suite and a
    ValidationDefinition. Each run reads the file into pandas and runs the definition."""

    def __init__(self) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("benchmark").add_dataframe_asset("orders")
        batch = asset.add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add(gx.ExpectationSuite(name="orders", expectations=suite_of()))
        self.definition = context.validation_definitions.add(
            gx.ValidationDefinition(name="orders", data=batch, suite=suite)
        )

    def run(self, path: Path) -> tuple[Timing, Numbers]:
        import pandas as pd

        started = time.perf_counter()
        df = pd.read_parquet(path)
        read = time.perf_counter()
        result = self.definition.run(batch_parameters={"dataframe": df})
        done = time.perf_counter()
        return Timing(done - started, done - read), gx_numbers(result)


def suite_of() -> list[Any]:
    """The expectations equivalent to CONTRACT, one per check of ours."""
    import great_expectations.expectations as gxe

    types = {
        "order_id": "int64",
        "amount": "float64",
        "country": "str",
        "email": "str",
        "created_at": "datetime64[us]",
        "status": "str",
    }
    newest_allowed = NOW - FAIL_AFTER
    return [
        gxe.ExpectTableColumnsToMatchSet(column_set=list(COLUMNS), exact_match=True),
        *(gxe.ExpectColumnValuesToBeOfType(column=c, type_=t) for c, t in types.items()),
        gxe.ExpectTableRowCountToBeBetween(min_value=MIN_ROWS, max_value=MAX_ROWS),
        gxe.ExpectColumnValuesToNotBeNull(column="order_id"),
        gxe.ExpectColumnValuesToBeUnique(column="order_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="amount"),
        gxe.ExpectColumnValuesToBeBetween(
            column="amount", min_value=AMOUNT_MIN, max_value=AMOUNT_MAX
        ),
        gxe.ExpectColumnValuesToBeInSet(column="country", value_set=list(COUNTRIES)),
        gxe.ExpectColumnValueLengthsToBeBetween(column="country", min_value=2, max_value=2),
        gxe.ExpectColumnValuesToMatchRegex(column="email", regex=EMAIL_PATTERN),
        gxe.ExpectColumnValuesToNotBeNull(column="created_at"),
        gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(STATUSES)),
        # Freshness: the newest created_at is at most fail_after old.
        gxe.ExpectColumnMaxToBeBetween(column="created_at", min_value=newest_allowed),
    ]


# --------------------------------------------------------------------------- reference


def streamed_numbers(path: Path) -> Numbers:
    """The same numbers, one row group at a time with pyarrow.compute: the reference
    for files too large for pandas. Duplicates are exact because the generator keeps
    each row group's ids inside their own range (checked here), so duplicates can only
    occur inside a row group."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(path)
    totals: Numbers = dict.fromkeys([*OUR_COUNTS.values(), "rows"], 0)
    newest = None
    previous_max = None
    for index in range(parquet.num_row_groups):
        table = parquet.read_row_group(index)
        ids, amount = table["order_id"], table["amount"]
        country, email, status = table["country"], table["email"], table["status"]
        totals["rows"] += table.num_rows
        totals["nulls(order_id)"] += ids.null_count
        totals["nulls(amount)"] += amount.null_count
        totals["nulls(created_at)"] += table["created_at"].null_count
        low, high = pc.min_max(ids).values()
        if previous_max is not None and low.as_py() <= previous_max:
            raise AssertionError("row groups' id ranges overlap; the reference needs them apart")
        previous_max = high.as_py()
        counts = pc.value_counts(ids.combine_chunks())
        repeated = pc.greater(counts.field("counts"), 1)
        totals["duplicated_rows(order_id)"] += int(
            pc.sum(pc.filter(counts.field("counts"), repeated)).as_py() or 0
        )
        outside = pc.or_(pc.less(amount, AMOUNT_MIN), pc.greater(amount, AMOUNT_MAX))
        totals["out_of_range(amount)"] += _true(outside)
        totals["not_in_set(country)"] += _true(pc.invert(pc.is_in(country, pa_set(COUNTRIES))))
        lengths = pc.utf8_length(country)
        totals["bad_length(country)"] += _true(pc.or_(pc.less(lengths, 2), pc.greater(lengths, 2)))
        totals["no_match(email)"] += _true(
            pc.invert(pc.match_substring_regex(email, EMAIL_PATTERN))
        )
        totals["not_in_set(status)"] += _true(pc.invert(pc.is_in(status, pa_set(STATUSES))))
        group_newest = pc.max(table["created_at"]).as_py()
        newest = group_newest if newest is None else max(newest, group_newest)
    totals["newest(created_at)"] = newest
    totals["schema_ok"] = parquet.schema_arrow.names == list(COLUMNS)
    return totals


def _true(mask: Any) -> int:
    """How many values are true (nulls, as in SQL, are not)."""
    import pyarrow.compute as pc

    return int(pc.sum(mask).as_py() or 0)


def pa_set(values: tuple[str, ...]) -> Any:
    import pyarrow as pa

    return pa.array(values)
