"""SLA misses in Airflow: Deadline Alerts that alert our routes, and the FreshnessSensor's
``sla_miss_callback`` made of routes.

::

    from airflow_opsguard.deadlines import deadline_alert   # or from airflow_opsguard.alerts

    DAG(..., deadline=deadline_alert(timedelta(hours=2), contract="contracts/orders.yml"))

:func:`deadline_alert` builds an Airflow ``DeadlineAlert`` (3.1+) whose ``AsyncCallback``
(:func:`on_deadline_missed`) runs in the triggerer: it records the miss in the results
store and alerts the routes that take ``sla_miss``, then returns one line, which Airflow
keeps in the callback's ``output`` (a Text column: a callback that returns a dict leaves
its row ``running``). The work itself is :func:`airflow_opsguard.alerts.sla.handle_deadline_miss`;
this module is the Airflow glue around it: building the alert, keeping its routes JSON
(Airflow stores the callback's kwargs as JSON), and finding the store from Airflow's
configuration in the triggerer.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow_opsguard.alerts.routes import to_routes
from airflow_opsguard.alerts.sla import (
    deadline_key,
    handle_deadline_miss,
    send_sla_miss,
    sla_default,
)
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.formats import load_contract
from airflow_opsguard.runtime import resolve_contract_path, store_url_in_airflow

# Keys of a route mapping that go with a notifier object (see alerts.routes.from_object).
_ROUTE_OPTIONS = frozenset({"on", "name", "send_resolved", "retries", "backoff"})


def deadline_alert(
    interval: timedelta,
    *,
    reference: Any = None,
    contract: str | None = None,
    routes: Sequence[Any] = (),
    dataset: str | None = None,
    store: str | None = None,
    name: str | None = None,
) -> Any:
    """An Airflow ``DeadlineAlert`` (3.1+, experimental upstream) that records and alerts
    a DAG run that misses its deadline::

        DAG(..., deadline=deadline_alert(timedelta(hours=2), contract="contracts/orders.yml"))

    ``reference``: a ``DeadlineReference`` (default: when the run was queued).
    ``contract``: a contract file whose ``sla_miss`` routes are alerted (a relative path
    is read next to the calling DAG file). ``routes``: more routes, as an operator's
    ``alerts=[...]``: mappings (without ``on`` they take the miss), Airflow notifier
    objects (``SmtpNotifier(...)``, ``SlackWebhookNotifier(...)``) and top-level
    functions. The callback runs in the triggerer from its serialized form, so a
    notifier object is kept as its class and the arguments it was made with (JSON
    values; write secrets in connections or as ``${ENV}``). ``store``: the results store
    (default: the deployment's, as a gate finds it). ``name``: the alert's name in
    Airflow and in the store (two alerts of one DAG need different names or intervals).
    """
    # Public names since Airflow 3.1 (the SDK's type stub does not list them yet).
    from airflow.sdk import (  # type: ignore[attr-defined]
        AsyncCallback,
        DeadlineAlert,
        DeadlineReference,
    )

    given = [sla_default(serializable_route(v, position)) for position, v in enumerate(routes)]
    to_routes(given)  # a bad route is an error when the DAG is parsed
    path: str | None = None
    if contract is not None:
        caller = sys._getframe(1).f_code.co_filename
        path = os.path.abspath(resolve_contract_path(contract, caller))
        loaded = load_contract(path)  # a bad contract is an error when the DAG is parsed
        dataset = dataset or loaded.dataset
    chosen = reference if reference is not None else DeadlineReference.DAGRUN_QUEUED_AT
    kwargs: dict[str, Any] = {
        "routes": given,
        "contract": path,
        "dataset": dataset,
        "key": deadline_key(name, type(chosen).__name__, interval),
        "interval_seconds": interval.total_seconds(),
    }
    if store is not None:
        kwargs["store"] = store
    return DeadlineAlert(
        reference=chosen,
        interval=interval,
        callback=AsyncCallback(on_deadline_missed, kwargs=kwargs),
        name=name,
    )


async def on_deadline_missed(
    *,
    context: Mapping[str, Any] | None = None,
    routes: Sequence[Mapping[str, Any]] = (),
    contract: str | None = None,
    dataset: str | None = None,
    store: str | None = None,
    key: str | None = None,
    interval_seconds: float | None = None,
    **_: Any,
) -> str:
    """The Deadline Alert callback, run in the triggerer: record the miss, alert the
    routes that take ``sla_miss`` (once per deadline), and return one line for
    Airflow's ``callback.output``. A route that did not take the alert raises, so
    Airflow marks the callback failed; the alert stays pending in the outbox."""
    target = store or await asyncio.to_thread(store_url_in_airflow)
    return await asyncio.to_thread(
        handle_deadline_miss,
        dict(context or {}),
        routes=[sla_default(value) for value in routes],
        contract=contract,
        dataset=dataset,
        key=key,
        interval_seconds=interval_seconds,
        store=target,
    )


class SlaMissAlerter:
    """A ``sla_miss_callback`` for the FreshnessSensor that alerts through routes::

        FreshnessSensor(..., sla=timedelta(hours=2),
                        sla_miss_callback=SlaMissAlerter([{"webhook": URL}]))

    Route mappings without ``on`` take SLA misses. The contract's own ``sla_miss`` routes
    are alerted by the sensor itself; give ``contract`` here only outside the sensor.
    """

    def __init__(
        self,
        routes: Sequence[Any] = (),
        *,
        contract: Contract | str | None = None,
        store: str | None = None,
    ) -> None:
        self.routes = [sla_default(value) for value in routes]
        to_routes(self.routes)  # a bad route is an error when the DAG is parsed
        self.contract = contract
        self.store = store

    def __call__(self, payload: Mapping[str, Any]) -> None:
        contract = load_contract(self.contract) if self.contract is not None else None
        send_sla_miss(contract, payload, routes=self.routes, store=store_url_in_airflow(self.store))


def serializable_route(value: Any, position: int = 0) -> dict[str, Any]:
    """A route as a JSON mapping, for a callback that Airflow serializes: a mapping stays
    (its ``notifier`` object, if any, becomes its import path and arguments), a notifier
    object becomes ``{"notifier": "module.Class", "args": {...}}`` (the arguments its
    class takes, read back from the attributes of the same names), a top-level function
    ``{"notifier": "module:function"}``. Raises ValueError naming what cannot be kept."""
    options: dict[str, Any] = {}
    target = value
    if isinstance(value, Mapping):
        notifier = value.get("notifier")
        if notifier is None or isinstance(notifier, str):
            mapping = dict(value)
            _check_json(mapping, f"alerts[{position}]")
            return mapping
        options = {k: v for k, v in value.items() if k != "notifier"}
        unknown = set(options) - _ROUTE_OPTIONS
        if unknown:
            raise ValueError(
                f"alerts[{position}]: unknown key {sorted(unknown)[0]!r} of a route to a notifier"
            )
        target = notifier
    if isinstance(target, str) or not callable(target):
        raise ValueError(
            f"alerts[{position}]: a route is a mapping, a notifier object or a function, "
            f"not {type(target).__name__}"
        )
    mapping = {**options, **_as_import(target, position)}
    _check_json(mapping, f"alerts[{position}]")
    return mapping


def _as_import(target: Any, position: int) -> dict[str, Any]:
    where = f"alerts[{position}]"
    if inspect.isfunction(target):
        if "<" in target.__qualname__:  # a lambda or a function defined inside another
            raise ValueError(
                f"{where}: {target.__qualname__} cannot be imported by the triggerer; "
                "use a function defined at the top of a module"
            )
        return {"notifier": f"{target.__module__}:{target.__qualname__}"}
    kind = type(target)
    if "<" in kind.__qualname__ or kind.__module__ == "__main__":
        raise ValueError(
            f"{where}: {kind.__qualname__} cannot be imported by the triggerer; "
            "define the notifier class at the top of an importable module"
        )
    args: dict[str, Any] = {}
    parameters = list(inspect.signature(kind.__init__).parameters.values())[1:]
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.name == "context":
            continue
        if hasattr(target, parameter.name):
            found = getattr(target, parameter.name)
            if parameter.default is not parameter.empty and found == parameter.default:
                continue
            args[parameter.name] = found
        elif parameter.default is parameter.empty:
            raise ValueError(
                f"{where}: notifier {kind.__qualname__} does not keep its argument "
                f"{parameter.name!r}, so it cannot be sent to the triggerer; write the "
                f"route as {{notifier: '{kind.__module__}.{kind.__qualname__}', args: {{...}}}}"
            )
    return {"notifier": f"{kind.__module__}.{kind.__qualname__}", "args": args}


def _check_json(mapping: Mapping[str, Any], where: str) -> None:
    try:
        json.dumps(mapping)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{where}: the route must be JSON to reach the triggerer ({exc}); give "
            "notifier arguments as strings, numbers, lists and mappings"
        ) from None


__all__ = ["SlaMissAlerter", "deadline_alert", "on_deadline_missed", "serializable_route"]
