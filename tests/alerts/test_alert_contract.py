"""The contract's alert keys: routes, owner, runbook, escalation and shadow mode."""

from __future__ import annotations

import textwrap
from datetime import timedelta

import pytest

from airflow_opsguard.contract.alerts import AlertRoute, mask_webhook
from airflow_opsguard.contract.loader import parse_contract_text
from airflow_opsguard.errors import ContractError
from airflow_opsguard.formats import load_contract

SECRET = "https://hooks.example.com/services/T000/B000/XXXXsecretXXXX"


def parse(text: str) -> object:
    return parse_contract_text(textwrap.dedent(text), origin="orders.yml")


def test_the_documented_form_parses_with_yaml_on_keys() -> None:
    # YAML 1.1 reads a bare `on:` key as True; the contract takes it back as `on`.
    contract = parse(
        f"""
        dataset: orders
        owner: data-platform@example.com
        runbook: https://wiki.example.com/orders
        alerts:
          - {{on: [fail, escalate], webhook: "{SECRET}"}}
          - {{on: [warn], log: true}}
          - on: [fail]
            notifier: airflow.providers.smtp.notifications.smtp.SmtpNotifier
            args: {{to: oncall@example.com}}
          - {{on: sla_miss, notifier: "mypackage.alerts:page"}}
        escalation: {{after_failures: 5, after_open: 4h}}
        """
    )
    routes = contract.alerts  # type: ignore[attr-defined]
    assert [r.on for r in routes] == [("fail", "escalate"), ("warn",), ("fail",), ("sla_miss",)]
    assert [r.kind for r in routes] == ["webhook", "log", "notifier", "notifier"]
    assert routes[2].args == {"to": "oncall@example.com"}
    assert contract.owner == "data-platform@example.com"  # type: ignore[attr-defined]
    escalation = contract.escalation  # type: ignore[attr-defined]
    assert escalation.after_failures == 5
    assert escalation.after_open == timedelta(hours=4)


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (
            "{on: [fail]}",
            "alerts[0]: give exactly one of webhook, log: true, notifier, slack, pagerduty or "
            "teams",
        ),
        (
            "{on: [fail], log: true, webhook: 'https://x.example.com'}",
            "give exactly one of webhook, log: true, notifier, slack, pagerduty or teams "
            "(got webhook and log)",
        ),
        ("{on: [explode], log: true}", "alerts[0].on[0]: 'explode' is not allowed"),
        ("{on: [], log: true}", "alerts[0].on: "),
        ("{on: [fail], webhook: 'ftp://x'}", "a webhook is an http:// or https:// URL"),
        ("{on: [fail], notifier: 'not a path!'}", "is not an importable name"),
        ("{on: [fail], log: true, args: {a: 1}}", "'args' go with 'notifier'"),
        ("{on: [fail], log: true, colour: red}", "alerts[0].colour: unknown key 'colour'"),
    ],
)
def test_a_bad_route_is_an_error_naming_the_key(route: str, message: str) -> None:
    with pytest.raises(ContractError) as caught:
        parse(f"dataset: orders\nalerts:\n  - {route}\n")
    assert message in str(caught.value)
    assert str(caught.value).startswith("orders.yml:3: ")


def test_webhook_secrets_never_show_in_a_repr_or_an_error() -> None:
    route = AlertRoute(on=("fail",), webhook=SECRET, headers={"Authorization": "Bearer abc"})
    shown = repr(route) + str(route)
    assert "secret" not in shown and "abc" not in shown
    assert "https://hooks.example.com/***" in shown
    contract = load_contract({"dataset": "orders", "alerts": [{"on": ["fail"], "webhook": SECRET}]})
    assert "secret" not in repr(contract)
    with pytest.raises(ContractError) as caught:
        load_contract({"dataset": "orders", "alerts": [{"on": ["nope"], "webhook": SECRET}]})
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (SECRET, "https://hooks.example.com/***"),
        ("https://user:pw@example.com:8443/hook?token=1", "https://example.com:8443/***"),
        ("https://example.com", "https://example.com"),
        ("${ORDERS_HOOK}", "${ORDERS_HOOK}"),
    ],
)
def test_mask_webhook(url: str, shown: str) -> None:
    assert mask_webhook(url) == shown


def test_routes_owner_runbook_and_escalation_leave_the_fingerprint_alone() -> None:
    plain = load_contract({"dataset": "orders", "volume": {"min_rows": 1}})
    told = load_contract(
        {
            "dataset": "orders",
            "volume": {"min_rows": 1},
            "owner": "me",
            "runbook": "https://wiki",
            "alerts": [{"on": ["fail"], "log": True}],
            "escalation": {"after_failures": 9},
            "mode": "enforce",
        }
    )
    assert told.fingerprint == plain.fingerprint


def test_shadow_mode_is_part_of_the_fingerprint() -> None:
    check = {"type": "not_null", "column": "a"}
    enforced = load_contract({"dataset": "x", "checks": [check]})
    assert load_contract(
        {"dataset": "x", "checks": [{**check, "mode": "enforce"}]}
    ).fingerprint == (enforced.fingerprint)
    shadow_check = load_contract({"dataset": "x", "checks": [{**check, "mode": "shadow"}]})
    shadow_all = load_contract({"dataset": "x", "checks": [check], "mode": "shadow"})
    assert len({enforced.fingerprint, shadow_check.fingerprint, shadow_all.fingerprint}) == 3


def test_a_contract_round_trips_through_its_json_form() -> None:
    contract = load_contract(
        {
            "dataset": "orders",
            "alerts": [{"on": ["fail"], "webhook": SECRET, "retries": 0}],
            "escalation": {"after_open": "2h"},
            "mode": "shadow",
        }
    )
    again = load_contract(contract.model_dump(mode="json", by_alias=True))
    assert again == contract


def test_resolution_parses_and_a_bad_value_names_its_key_and_line() -> None:
    contract = parse(
        """
        dataset: orders
        resolution: {after_passes: 2, flapping_after: 4, flapping_within: 3d}
        """
    )
    resolution = contract.resolution  # type: ignore[attr-defined]
    assert (resolution.after_passes, resolution.flapping_after) == (2, 4)
    assert resolution.flapping_within == timedelta(days=3)
    default = parse("dataset: orders\n").resolution  # type: ignore[attr-defined]
    assert (default.after_passes, default.flapping_after) == (1, 3)
    assert default.flapping_within == timedelta(days=7)
    for body, message in [
        ("{after_passes: 0}", "resolution.after_passes: "),
        ("{after_pases: 2}", "resolution.after_pases: unknown key 'after_pases'"),
        ("{flapping_within: soon}", "resolution.flapping_within: "),
    ]:
        with pytest.raises(ContractError) as caught:
            parse(f"dataset: orders\nvolume: {{min_rows: 1}}\nresolution: {body}\n")
        assert message in str(caught.value)
        assert str(caught.value).startswith("orders.yml:3: ")


def test_resolution_leaves_the_fingerprint_alone() -> None:
    plain = load_contract({"dataset": "orders", "volume": {"min_rows": 1}})
    held = load_contract(
        {"dataset": "orders", "volume": {"min_rows": 1}, "resolution": {"after_passes": 3}}
    )
    assert held.fingerprint == plain.fingerprint
