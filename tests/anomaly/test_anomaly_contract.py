"""The contract keys of anomaly and row_count_change checks: parsed strictly, with errors
that name the file, line and key."""

from __future__ import annotations

import json

import pytest

from airflow_opsguard import ContractError
from airflow_opsguard.anomaly.history import HistoryKey, history_requests
from airflow_opsguard.contract.loader import parse_contract_text
from airflow_opsguard.contract.models import AnomalyCheck, RowCountChangeCheck, SustainedRule

CONTRACT = """\
dataset: signups
schema:
  columns:
    - {name: email, type: string}
    - {name: amount, type: float}
    - {name: created_at, type: timestamp}
checks:
  - {type: anomaly, metric: rows}
  - type: anomaly
    metric: null_fraction
    column: email
    weekly: true
    min_history: 14
    threshold: 4
    warn_after: 1
    fail_after: {breaches: 3, within: 5}
  - {type: row_count_change, max_drop: 0.5, max_growth: 2.0, relative_to: median}
"""


def test_the_documented_example_loads() -> None:
    contract = parse_contract_text(CONTRACT)
    rows, nulls, change = contract.checks
    assert isinstance(rows, AnomalyCheck) and isinstance(nulls, AnomalyCheck)
    assert isinstance(change, RowCountChangeCheck)
    assert (rows.display_name, rows.metric_name) == ("anomaly(rows)", "rows")
    assert rows.threshold == 3.5 and rows.direction == "both" and rows.history_needed == 14
    assert rows.warn_after == SustainedRule(breaches=1, within=1)
    assert rows.fail_after == SustainedRule(breaches=3, within=5)
    assert nulls.display_name == "anomaly(null_fraction(email))"
    assert nulls.weekly and nulls.history_needed == 14 and nulls.threshold == 4
    assert nulls.columns == ("email",)
    assert (change.display_name, change.max_drop, change.max_growth) == (
        "row_count_change",
        0.5,
        2.0,
    )
    assert change.relative_to == "median"


def test_a_plain_number_of_breaches_means_that_many_in_a_row() -> None:
    check = AnomalyCheck.model_validate(
        {"metric": "rows", "warn_after": 2, "fail_after": 4, "type": "anomaly"}
    )
    assert check.warn_after == SustainedRule(breaches=2, within=2)
    assert check.fail_after == SustainedRule(breaches=4, within=4)
    never = AnomalyCheck.model_validate({"type": "anomaly", "metric": "rows", "fail_after": None})
    assert never.fail_after is None


def test_weekly_learns_from_fewer_runs_by_default() -> None:
    weekly = AnomalyCheck(metric="rows", weekly=True)
    assert weekly.history_needed == 4
    assert AnomalyCheck(metric="rows", weekly=True, min_history=9).history_needed == 9


def test_history_requests_ask_for_what_the_rules_look_back_on() -> None:
    contract = parse_contract_text(CONTRACT)
    needed = history_requests(contract)
    # rows: a window of 30 and 4 more runs the fail rule looks back on; the median
    # reference reads 30 runs of the same series.
    assert needed[HistoryKey("rows")] == 34
    # weekly: same-weekday windows, found among seven times as many runs.
    assert needed[HistoryKey("null_fraction(email)")] == 30 * 7 + 4
    assert HistoryKey("rows", passing_only=True) not in needed
    previous = parse_contract_text(
        "dataset: x\nchecks:\n  - {type: row_count_change, max_drop: 0.1}"
    )
    assert history_requests(previous) == {HistoryKey("rows", passing_only=True): 1}
    assert history_requests(parse_contract_text("dataset: x")) == {}


def test_the_fingerprint_changes_with_the_rules() -> None:
    first = parse_contract_text(CONTRACT)
    second = parse_contract_text(CONTRACT.replace("threshold: 4", "threshold: 5"))
    assert first.fingerprint != second.fingerprint


def test_the_json_schema_documents_the_keys() -> None:
    from airflow_opsguard.contract.models import Contract

    schema = json.dumps(Contract.model_json_schema(by_alias=True))
    for key in ("min_history", "fail_after", "max_drop", "relative_to", "weekly"):
        assert key in schema


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (
            "{type: anomaly, metric: rows, column: email}",
            "checks[0]: the rows metric has no column",
        ),
        ("{type: anomaly, metric: mean}", "checks[0]: give the 'column' whose mean is watched"),
        ("{type: anomaly, metric: mean, column: email}", "checks[0].metric: mean needs a number"),
        (
            "{type: anomaly, metric: freshness_lag_seconds, column: amount}",
            "checks[0].metric: freshness_lag_seconds needs a date or timestamp column",
        ),
        (
            "{type: anomaly, metric: nulls, column: email}",
            "checks[0].metric: 'nulls' is not allowed",
        ),
        ("{type: anomaly, metric: rows, threshold: 0}", "checks[0].threshold"),
        ("{type: anomaly, metric: rows, min_history: 2}", "checks[0].min_history"),
        ("{type: anomaly, metric: rows, min_history: 40}", "larger than window (30)"),
        (
            "{type: anomaly, metric: rows, fail_after: {breaches: 3, within: 2}}",
            "checks[0].fail_after: 3 breaches cannot happen within 2 runs",
        ),
        ("{type: anomaly, metric: rows, warn_after: 3, fail_after: 2}", "warn_after asks for more"),
        ("{type: anomaly, metric: rows, mostly: 0.9}", "'mostly' applies to row checks"),
        ("{type: anomaly, metric: rows, weekyl: true}", "checks[0].weekyl: unknown key"),
        ("{type: anomaly, metric: rows, direction: sideways}", "checks[0].direction"),
        (
            "{type: anomaly, metric: null_fraction, column: phone}",
            "'phone' is not in schema.columns",
        ),
        ("{type: row_count_change}", "give 'max_drop', 'max_growth' or both"),
        ("{type: row_count_change, max_drop: 1.5}", "checks[0].max_drop"),
        ("{type: row_count_change, max_drop: 0.5, relative_to: last}", "checks[0].relative_to"),
    ],
)
def test_mistakes_are_named_with_file_line_and_key(check: str, message: str) -> None:
    text = CONTRACT.split("checks:")[0] + "checks:\n  - " + check + "\n"
    with pytest.raises(ContractError) as caught:
        parse_contract_text(text, origin="signups.yml")
    assert str(caught.value).startswith("signups.yml:8: ")
    assert message in str(caught.value)
