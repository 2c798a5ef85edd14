"""The SMTP provider's notifier as a route: a real mail server (aiosmtpd) receives it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from alert_helpers import NOW, bad_orders, good_orders, orders_contract
from recorders import MailRecorder

from airflow_opsguard import validate
from airflow_opsguard.alerts import send_alerts
from airflow_opsguard.formats import load_contract
from airflow_opsguard.store import ResultStore

pytest.importorskip(
    "airflow.providers.smtp", reason="apache-airflow-providers-smtp is in the dev extra"
)

SMTP_NOTIFIER = "airflow.providers.smtp.notifications.smtp.SmtpNotifier"


def smtp_connection(mail: MailRecorder) -> str:
    """An Airflow connection (JSON form) to the local mail server: no TLS, no retries."""
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": mail.host,
            "port": mail.port,
            "extra": {"disable_tls": True, "disable_ssl": True, "retry_limit": 0, "timeout": 10},
        }
    )


def test_the_smtp_notifier_mails_the_alert_and_the_recovery(
    mail: MailRecorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_SMTP", smtp_connection(mail))
    route = {
        "on": ["fail", "recover"],
        "notifier": SMTP_NOTIFIER,
        "args": {
            "to": "oncall@example.com",
            "from_email": "opsguard@example.com",
            "smtp_conn_id": "opsguard_smtp",
        },
        "retries": 0,
    }
    contract = orders_contract("orders", [route])
    with ResultStore(f"sqlite:///{tmp_path / 's.db'}") as store:
        for data in (bad_orders(), bad_orders(), good_orders()):
            result = validate(contract, data=data, now=NOW, store=store)
            report = send_alerts(result, contract, store=store, now=NOW)
            assert all(d.ok for d in report.deliveries), report.deliveries
    assert [m["Subject"] for m in mail.messages] == [
        "[opsguard] FAIL orders: 3 checks failed",
        "[opsguard] RESOLVED orders: passing again (3 checks over 2 failing runs)",
    ]
    first = mail.messages[0]
    assert first["To"] == "oncall@example.com"
    body = mail.bodies()[0]
    for fragment in (
        "unique(order_id)",
        "range(amount)",
        "volume",
        "&gt;= 5",
        "data-platform@example.com",
    ):
        assert fragment in body, body


def test_values_from_the_data_are_escaped_in_the_mail(
    mail: MailRecorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_OPSGUARD_SMTP", smtp_connection(mail))
    route = {
        "on": ["fail"],
        "notifier": SMTP_NOTIFIER,
        "args": {
            "to": "oncall@example.com",
            "from_email": "opsguard@example.com",
            "smtp_conn_id": "opsguard_smtp",
        },
        "retries": 0,
    }
    contract = load_contract(
        {
            "dataset": "orders",
            "schema": {"columns": [{"name": "country", "type": "string"}]},
            "checks": [{"type": "allowed", "column": "country", "values": ["US", "DE"]}],
            "alerts": [route],
        }
    )
    hostile = "<script>alert('x')</script> & {{ 7 * 7 }}"
    data = pd.DataFrame({"country": ["US", hostile]})
    with ResultStore(f"sqlite:///{tmp_path / 's.db'}") as store:
        result = validate(contract, data=data, now=NOW, store=store)
        report = send_alerts(result, contract, store=store, now=NOW)
    assert all(d.ok for d in report.deliveries), report.deliveries
    (html,) = [b for b in mail.bodies() if "<h3>" in b]
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp;" in html
    assert "<script>" not in html
    # The notifier renders its templates, not the values inside the alert.
    assert "{{ 7 * 7 }}" in html
