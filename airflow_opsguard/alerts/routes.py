"""Routes: the contract's ``alerts`` and an operator's ``alerts=[...]``, made one list.

A route is either declared (an :class:`AlertRoute`: webhook, log or a notifier named by
its import path) or an object handed to an operator (an Airflow ``BaseNotifier``
instance or a plain callable). Each has a stable ``key`` (pending alerts wait for the
route with that key) and a ``label`` that is safe to show (webhook URLs masked).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from airflow_opsguard.contract.alerts import AlertRoute, mask_webhook
from airflow_opsguard.contract.models import Contract

# What a notifier object handed over without ``on`` is told of (recoveries follow).
DEFAULT_OBJECT_EVENTS: tuple[str, ...] = ("fail", "escalate", "sla_miss")


@dataclass(frozen=True)
class Route:
    """One destination, with the events it takes."""

    key: str
    label: str
    on: frozenset[str]
    send_resolved: bool = True
    retries: int = 2
    backoff: float = 1.0
    spec: AlertRoute | None = None
    target: Any = field(default=None, compare=False)  # a notifier object or a callable

    def takes(self, event: str) -> bool:
        return event in self.on

    def hears_recovery(self, severity: str, escalated: bool) -> bool:
        """Whether this route gets the notice that such an incident resolved: it takes
        ``recover``, or it was told of the incident (its severity, or its escalation)
        and ``send_resolved`` is on."""
        if "recover" in self.on:
            return True
        if not self.send_resolved:
            return False
        return severity in self.on or (escalated and "escalate" in self.on)


def from_spec(spec: AlertRoute) -> Route:
    dumped = spec.model_dump(mode="json", exclude_defaults=True)
    digest = hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()[:24]
    return Route(
        key=f"route-{digest}",
        label=spec.name or _spec_label(spec),
        on=frozenset(spec.on),
        send_resolved=spec.send_resolved,
        retries=spec.retries,
        backoff=spec.backoff,
        spec=spec,
    )


def from_object(target: Any, position: int, options: Mapping[str, Any] | None = None) -> Route:
    """A route to a notifier object or callable (``options``: on, name, send_resolved,
    retries, backoff)."""
    if not callable(target):
        raise ValueError(
            f"an alert route is a mapping such as {{on: [fail], webhook: URL}}, a notifier "
            f"or a callable, not {type(target).__name__}"
        )
    options = dict(options or {})
    events = options.pop("on", None) or DEFAULT_OBJECT_EVENTS
    if isinstance(events, str):
        events = (events,)
    probe = AlertRoute(on=tuple(events), log=True)  # validates the events
    unknown = set(options) - {"name", "send_resolved", "retries", "backoff"}
    if unknown:
        raise ValueError(f"unknown key {sorted(unknown)[0]!r} of an alert route to a notifier")
    checked = AlertRoute(on=probe.on, log=True, **options)
    name = _object_name(target)
    digest = hashlib.sha256(f"{name}|{position}|{sorted(checked.on)}".encode()).hexdigest()[:24]
    return Route(
        key=f"object-{digest}",
        label=checked.name or f"notifier {name}",
        on=frozenset(checked.on),
        send_resolved=checked.send_resolved,
        retries=checked.retries,
        backoff=checked.backoff,
        target=target,
    )


def to_route(value: Any, position: int = 0) -> Route:
    """One route from what a user may write: a mapping (as in a contract), an
    :class:`AlertRoute`, a notifier object or callable, or a mapping whose ``notifier``
    is an object. Raises ValueError naming the problem."""
    if isinstance(value, Route):
        return value
    if isinstance(value, AlertRoute):
        return from_spec(value)
    if isinstance(value, Mapping):
        notifier = value.get("notifier")
        if notifier is not None and not isinstance(notifier, str):
            rest = {k: v for k, v in value.items() if k != "notifier"}
            return from_object(notifier, position, rest)
        try:
            return from_spec(AlertRoute.model_validate(dict(value)))
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            message = str(first["msg"]).removeprefix("Value error, ")
            raise ValueError(
                f"alerts[{position}]{'.' + where if where else ''}: {message}"
            ) from None
    return from_object(value, position)


def to_routes(values: Iterable[Any]) -> list[Route]:
    return [to_route(value, position) for position, value in enumerate(values)]


def routes_for(contract: Contract | None, extra: Sequence[Any] = ()) -> list[Route]:
    """The contract's routes, then the extra ones (an operator's), without repeats."""
    declared = [from_spec(spec) for spec in contract.alerts] if contract is not None else []
    routes: dict[str, Route] = {}
    for route in [*declared, *to_routes(extra)]:
        routes.setdefault(route.key, route)
    return list(routes.values())


def _spec_label(spec: AlertRoute) -> str:
    if spec.webhook is not None:
        return f"webhook {mask_webhook(spec.webhook)}"
    if spec.notifier is not None:
        return f"notifier {spec.notifier}"
    if spec.kind != "log":  # slack, pagerduty, teams
        return spec.describe()
    return "log"


def _object_name(target: Any) -> str:
    # Functions and classes have a qualified name; instances are named by their class.
    kind = target if hasattr(target, "__qualname__") else type(target)
    module = getattr(kind, "__module__", "?")
    return f"{module}.{getattr(kind, '__qualname__', type(target).__name__)}"
