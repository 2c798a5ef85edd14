"""Delivery to each kind of route: the JSON webhook (retries, backoff, secrets), the log,
notifiers named by their import path, notifier objects and callables."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from recorders import WebhookRecorder

from airflow_opsguard.alerts.delivery import Deliverer, call_object, import_object
from airflow_opsguard.alerts.messages import AlertMessage
from airflow_opsguard.alerts.routes import routes_for, to_route
from airflow_opsguard.alerts.webhook import DeliveryError

PAYLOAD = AlertMessage(
    event="fail",
    dataset="orders",
    title="[opsguard] FAIL orders: 1 check failed",
    text="[opsguard] FAIL orders: 1 check failed\n- FAIL volume: observed 3, expected >= 5",
    checks=({"name": "volume", "status": "fail", "observed": 3, "expected": ">= 5"},),
).to_dict()

RECEIVED: list[dict[str, Any]] = []


def record(context: dict[str, Any], **args: Any) -> None:
    """A notifier function named by its path in a route (``module:record``)."""
    RECEIVED.append({"title": context["opsguard"]["title"], **args})


class Recorder:
    """A notifier class named by its path: made with the route's args."""

    def __init__(self, channel: str, text: str = "unset") -> None:
        self.channel = channel
        self.text = text

    def __call__(self, context: dict[str, Any]) -> None:
        RECEIVED.append({"channel": self.channel, "text": self.text})


class Waits:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def test_the_webhook_gets_the_json_with_a_text_field(hook: WebhookRecorder) -> None:
    attempt = Deliverer().deliver(to_route({"on": ["fail"], "webhook": hook.url}), PAYLOAD)
    assert attempt.ok and attempt.attempts == 1
    (post,) = hook.posts
    assert post.path == "/hooks/T000/B000/s3cr3t-token"
    assert post.headers["Content-Type"] == "application/json"
    assert post.body["text"].startswith("[opsguard] FAIL orders")
    assert post.body["checks"][0]["observed"] == 3


def test_a_failing_webhook_is_retried_with_backoff_then_succeeds(hook: WebhookRecorder) -> None:
    hook.statuses[:] = [500, 503]
    waits = Waits()
    route = to_route({"on": ["fail"], "webhook": hook.url, "retries": 3, "backoff": 0.5})
    attempt = Deliverer(sleep=waits).deliver(route, PAYLOAD)
    assert attempt.ok and attempt.attempts == 3
    assert hook.answers == [500, 503, 200]
    assert waits.delays == [0.5, 1.0]


def test_a_webhook_that_keeps_failing_gives_up_with_a_reason_without_secrets(
    hook: WebhookRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    hook.fail_with(500)
    waits = Waits()
    route = to_route({"on": ["fail"], "webhook": hook.url, "retries": 2, "backoff": 1})
    with caplog.at_level(logging.INFO, logger="airflow_opsguard"):
        attempt = Deliverer(sleep=waits).deliver(route, PAYLOAD)
    assert not attempt.ok and attempt.attempts == 3
    assert attempt.error == "the webhook answered HTTP 500 Internal Server Error"
    assert waits.delays == [1, 2]
    assert "s3cr3t" not in caplog.text and "s3cr3t" not in attempt.route
    assert "could not be sent to webhook http://127.0.0.1:" in caplog.text


def test_a_client_error_is_not_retried(hook: WebhookRecorder) -> None:
    hook.fail_with(404)
    attempt = Deliverer(sleep=Waits()).deliver(
        to_route({"on": ["fail"], "webhook": hook.url, "retries": 5}), PAYLOAD
    )
    assert (attempt.ok, attempt.attempts) == (False, 1)


def test_a_webhook_nobody_listens_on_is_a_retryable_failure() -> None:
    waits = Waits()
    route = to_route({"on": ["fail"], "webhook": "http://127.0.0.1:1/hook?token=abc", "retries": 1})
    attempt = Deliverer(sleep=waits).deliver(route, PAYLOAD)
    assert (attempt.ok, attempt.attempts) == (False, 2)
    assert attempt.error is not None and "cannot reach the webhook" in attempt.error
    assert "abc" not in attempt.error


def test_secrets_come_from_the_environment_when_sending(
    hook: WebhookRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _, path = hook.url.partition("/hooks/")
    monkeypatch.setenv("ORDERS_HOOK_PATH", path)
    monkeypatch.setenv("ORDERS_TOKEN", "t0ken")
    route = to_route(
        {
            "on": ["fail"],
            "webhook": base + "/hooks/${ORDERS_HOOK_PATH}",
            "headers": {"Authorization": "Bearer ${ORDERS_TOKEN}"},
        }
    )
    assert Deliverer().deliver(route, PAYLOAD).ok
    assert hook.posts[0].headers["Authorization"] == "Bearer t0ken"
    monkeypatch.delenv("ORDERS_TOKEN")
    attempt = Deliverer().deliver(route, PAYLOAD)
    assert attempt.error == "environment variable ORDERS_TOKEN (in the webhook route) is not set"
    assert attempt.attempts == 1  # a missing variable does not come back by retrying


def test_the_log_route_writes_the_message(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="airflow_opsguard.alerts"):
        attempt = Deliverer().deliver(to_route({"on": ["fail"], "log": True}), PAYLOAD)
    assert attempt.ok
    (record_,) = [r for r in caplog.records if "FAIL volume" in r.getMessage()]
    assert record_.levelno == logging.WARNING


def test_notifiers_named_by_their_import_path() -> None:
    RECEIVED.clear()
    deliverer = Deliverer(context={"run_id": "r"})
    function = to_route({"on": ["fail"], "notifier": f"{__name__}:record", "args": {"who": "me"}})
    made = to_route({"on": ["fail"], "notifier": f"{__name__}.Recorder", "args": {"channel": "#a"}})
    assert deliverer.deliver(function, PAYLOAD).ok
    assert deliverer.deliver(made, PAYLOAD).ok
    # A class that takes `text` and is not given one gets the message's text template.
    assert [
        {"title": PAYLOAD["title"], "who": "me"},
        {"channel": "#a", "text": "{{ opsguard.text }}"},
    ] == RECEIVED


def test_a_notifier_that_cannot_be_imported_fails_once_with_its_name() -> None:
    route = to_route({"on": ["fail"], "notifier": "no_such_module.Notifier", "retries": 3})
    attempt = Deliverer(sleep=Waits()).deliver(route, PAYLOAD)
    assert (attempt.ok, attempt.attempts) == (False, 1)
    assert (
        attempt.error is not None
        and "cannot import notifier no_such_module.Notifier" in attempt.error
    )
    with pytest.raises(DeliveryError):
        import_object("airflow_opsguard.nothing_here:x")


def test_an_airflow_notifier_object_renders_a_fresh_copy_each_time() -> None:
    from airflow.sdk import BaseNotifier

    sent: list[str] = []

    class Notifier(BaseNotifier):
        template_fields = ("message",)

        def __init__(self, message: str) -> None:
            super().__init__()
            self.message = message

        def notify(self, context: Any) -> None:
            sent.append(self.message)

    notifier = Notifier(message="{{ opsguard.title }} ({{ opsguard.dataset }})")
    route = to_route(notifier)
    deliverer = Deliverer()
    assert deliverer.deliver(route, PAYLOAD).ok
    second = {**PAYLOAD, "title": "[opsguard] RECOVERED orders", "event": "recover"}
    assert deliverer.deliver(route, second).ok
    assert sent == [f"{PAYLOAD['title']} (orders)", "[opsguard] RECOVERED orders (orders)"]
    assert notifier.message.startswith("{{")  # the operator's notifier is left as it was


def test_a_callable_that_raises_is_retried() -> None:
    calls: list[int] = []

    def flaky(context: dict[str, Any]) -> None:
        calls.append(1)
        if len(calls) < 2:
            raise RuntimeError("slack said no")

    attempt = Deliverer(sleep=Waits()).deliver(
        to_route({"on": ["fail"], "notifier": flaky}), PAYLOAD
    )
    assert attempt.ok and attempt.attempts == 2


def test_routes_are_the_contracts_then_the_operators_without_repeats() -> None:
    from airflow_opsguard.formats import load_contract

    contract = load_contract({"dataset": "x", "alerts": [{"on": ["fail"], "log": True}]})
    routes = routes_for(contract, [{"on": ["fail"], "log": True}, print])
    assert [r.label for r in routes] == ["log", "notifier builtins.print"]
    assert routes[1].on == {"fail", "escalate", "sla_miss"}
    with pytest.raises(ValueError, match=r"alerts\[0\]\.on\.0: "):
        to_route({"on": ["later"], "log": True})
    with pytest.raises(ValueError, match="not int"):
        to_route(3)
    with pytest.raises(DeliveryError):
        call_object(object(), {})


def test_a_notifier_that_only_notifies_asynchronously_is_awaited() -> None:
    from airflow.sdk import BaseNotifier

    sent: list[str] = []

    class AsyncOnly(BaseNotifier):
        template_fields = ("text",)

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

        async def async_notify(self, context: Any) -> None:
            sent.append(self.text)

    assert Deliverer().deliver(to_route(AsyncOnly("{{ opsguard.dataset }}")), PAYLOAD).ok
    assert sent == ["orders"]
