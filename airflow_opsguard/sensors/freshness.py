"""FreshnessSensor: wait until a source's data is fresh, with a freshness SLA of our own
(Airflow 3 removed task SLAs), without holding a worker slot while waiting."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from airflow.sdk import Asset, BaseSensorOperator, PokeReturnValue
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowSkipException

from airflow_opsguard.connections import engine_for_conn_id
from airflow_opsguard.contract.durations import format_duration, parse_duration
from airflow_opsguard.contract.models import Contract, Source
from airflow_opsguard.errors import StoreError
from airflow_opsguard.freshness import (
    Observation,
    Reading,
    WaitState,
    file_location,
    freshness_limit,
    freshness_only,
    future_tolerance,
    observe,
    sla_message,
    sla_missed,
    start_waiting,
    storage_only,
    timed_out,
    utc_instant,
)
from airflow_opsguard.operators.masking import mask_url_secrets
from airflow_opsguard.runtime import (
    FRESHNESS_REFERENCES,
    FreshnessReference,
    load_cached,
    resolve_contract_path,
    run_reference_time,
    store_url_in_airflow,
)
from airflow_opsguard.triggers.freshness import FreshnessTrigger

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from airflow_opsguard.store.sla import SlaMiss

SlaCallback = Callable[[dict[str, Any]], Any]
# How long past its own deadline Airflow lets the trigger run before failing the task:
# the trigger reports the deadline itself; this only guards against a lost trigger.
DEFERRAL_GRACE = timedelta(minutes=5)


class FreshnessSensor(BaseSensorOperator):
    """Wait until the newest timestamp of a source is within its age limit.

    **What "newest" is.** ``source="column"`` (default): the newest value of the
    contract's ``freshness.column``, measured by the opsguard engine, so files and
    databases work alike. ``source="mtime"``: the newest modification time among the
    files of a file or glob source (local or fsspec). ``asset=Asset(...)``: the timestamp
    of the asset's newest event, read through the task's execution API (the asset becomes
    an inlet of the task).

    **The age limit** is ``max_age``, else the contract's ``freshness.fail_after``, else
    its ``warn_after``. A contract without either, and no ``max_age``, is an error when the
    DAG is parsed.

    **Against what.** The data is fresh when ``reference - newest <= limit``, and the
    reference is the run's *fixed* instant, as for the quality gate: its data interval end
    by default (``freshness_reference``: ``data_interval_end``, ``logical_date``). So a
    backfill of an old interval succeeds as soon as that interval's data is there, and a
    gate after the sensor judges the same data the same way. ``"now"`` (or a run with
    neither an interval nor a logical date) judges against the wall clock at each poke.

    **SLA.** ``sla`` is measured from that same reference instant (the data interval end:
    "the data must be fresh 2 hours after the interval ends"), or from the sensor's first
    poke when freshness is judged against the wall clock. Whether it has passed is decided
    by the wall clock. When it passes and the data is still not fresh (or cannot be read),
    the miss is recorded in the results store (table ``opsguard_sla_misses``, one row per
    DAG run and sensor task) and ``sla_miss_callback`` is called exactly once per run:
    not per poke, not again after a reschedule, a deferral or a retry. It receives the
    task's context plus ``dag_id``, ``run_id``, ``task_id``, ``map_index``, ``dataset``,
    ``age`` (a timedelta, or None when unknown), ``newest``, ``limit``, ``sla``,
    ``sla_due_at``, ``reference``, ``error``, ``message`` and ``sla_miss`` (the record).
    A plain callable or an Airflow notifier (``BaseNotifier``), or a list of them. If the
    store cannot be reached the callback is called anyway and a warning logged: an alert
    that may repeat (in reschedule mode) beats a missed one. An alert route mapping
    (``{"webhook": URL}``, as in a contract's ``alerts``) is alerted with the miss, and so
    are the contract's own routes that take ``sla_miss``.

    **Timeout.** ``timeout`` (seconds or a timedelta, from the first poke) fails the task
    with ``AirflowSensorTimeout`` when the data never becomes fresh (skips it with
    ``soft_fail``).

    **Waiting.** ``deferrable`` defaults to ``[operators] default_deferrable`` (False
    unless the deployment sets it), as for the sensors of Airflow's standard provider.
    ``deferrable=True``: the task defers to
    :class:`~airflow_opsguard.triggers.FreshnessTrigger`, which polls the source in the
    triggerer (needs a running triggerer), so no worker slot is held; the task resumes
    to alert on an SLA miss and defers again. Not deferrable, the sensor runs in
    ``mode="reschedule"`` unless ``mode`` is given (here or in ``default_args``): it frees
    the slot between pokes; ``mode="poke"`` holds it. ``mode="reschedule"`` with
    ``deferrable=True`` is an error when the DAG is parsed (they are two ways of waiting);
    ``mode="reschedule"`` alone reschedules, whatever the deployment's default.
    A source that cannot be read is not fresh: it is logged and tried again next poke.

    The task returns (XCom) a small summary of the fresh reading: dataset, newest,
    age_seconds, limit_seconds, reference, source.
    """

    template_fields: Sequence[str] = ("contract_path", "data", "table", "conn_id")
    ui_color = "#e3eef9"

    def __init__(
        self,
        *,
        contract: str | Contract | None = None,
        source: Literal["column", "mtime"] = "column",
        asset: Asset | None = None,
        max_age: timedelta | float | str | None = None,
        data: str | None = None,
        table: str | None = None,
        conn_id: str | None = None,
        sla: timedelta | float | str | None = None,
        sla_miss_callback: SlaCallback
        | Mapping[str, Any]
        | Sequence[SlaCallback | Mapping[str, Any]]
        | None = None,
        freshness_reference: FreshnessReference = "data_interval_end",
        store: str | None = None,
        store_conn_id: str | None = None,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        mode = kwargs.get("mode", (kwargs.get("default_args") or {}).get("mode"))
        if deferrable is None:
            # The deployment's default, unless the DAG asked to reschedule: a setting
            # made for the whole deployment never breaks a DAG that chose its way.
            default = conf.getboolean("operators", "default_deferrable", fallback=False)
            deferrable = default and mode != "reschedule"
        if mode is None:
            # Waiting must not hold a worker slot: reschedule when not deferring.
            kwargs["mode"] = "poke" if deferrable else "reschedule"
        super().__init__(**kwargs)
        name = self.task_id
        if source not in ("column", "mtime"):
            raise ValueError(f"{name}: source must be 'column' or 'mtime', not {source!r}")
        if freshness_reference not in FRESHNESS_REFERENCES:
            raise ValueError(
                f"{name}: freshness_reference must be one of {FRESHNESS_REFERENCES}, "
                f"not {freshness_reference!r}"
            )
        if deferrable and self.mode == "reschedule":
            raise ValueError(
                f"{name}: mode='reschedule' needs deferrable=False (deferrable=True waits "
                "in the triggerer and holds no worker slot either)"
            )
        if contract is None and asset is None:
            raise ValueError(f"{name}: give contract= (or asset= with max_age=)")
        self.contract_object = contract if isinstance(contract, Contract) else None
        self.contract_path = None if contract is None or self.contract_object else str(contract)
        self.source: Literal["column", "mtime"] = source
        self.asset = asset
        self.max_age = _duration(max_age, "max_age", name, allow_zero=False)
        self.data = data
        self.table = table
        self.conn_id = conn_id
        self.sla = _duration(sla, "sla", name, allow_zero=True)
        self.sla_miss_callbacks = _callbacks(sla_miss_callback, name)
        if self.sla_miss_callbacks and self.sla is None:
            raise ValueError(f"{name}: sla_miss_callback needs sla= (when the SLA passes)")
        self.freshness_reference: FreshnessReference = freshness_reference
        self.store = store
        self.store_conn_id = store_conn_id
        self.deferrable = deferrable
        if asset is not None and asset not in self.inlets:
            self.inlets = [*self.inlets, asset]  # so the task may read its events
        self._poke_state: WaitState | None = None  # poke mode: within one execution only
        # Parse time: validate the contract and the arguments (cheap, cached); no data I/O.
        if self.contract_path is None or "{{" not in self.contract_path:
            self._check_contract(self._load_contract())

    def render_template_fields(
        self, context: Context, jinja_env: jinja2.Environment | None = None
    ) -> None:
        """Render, then register the URL passwords of the rendered fields (and the
        store) with Airflow's masker, before Airflow stores the rendered values."""
        super().render_template_fields(context, jinja_env)
        mask_url_secrets(*(getattr(self, f, None) for f in self.template_fields), self.store)

    # ------------------------------------------------------------------ contract

    def _load_contract(self) -> Contract | None:
        if self.contract_object is not None:
            return self.contract_object
        if self.contract_path is None:
            return None
        dag_file = self.dag.fileloc if self.has_dag() else None  # type: ignore[no-untyped-call]
        return load_cached(resolve_contract_path(self.contract_path, dag_file))

    def _check_contract(self, contract: Contract | None) -> None:
        """Raise a ValueError naming the task and the contract file when the arguments
        and the contract do not say what to watch, or how old it may be."""
        where = f"{self.task_id} ({contract.origin or 'inline contract'})" if contract else ""
        if contract is None:
            if self.max_age is None:
                raise ValueError(f"{self.task_id}: asset= needs max_age= (or a contract=)")
            return
        if freshness_limit(contract, self.max_age) is None:
            raise ValueError(
                f"{where}: the contract has no freshness section, so there is no age "
                "limit: add freshness (fail_after or warn_after) or give max_age="
            )
        if self.asset is not None:
            return
        if self.source == "column" and contract.freshness is None:
            raise ValueError(
                f"{where}: source='column' needs freshness.column in the contract "
                "(or use source='mtime' for files, or asset=)"
            )
        if (
            self.source == "mtime"
            and not self.data
            and not (contract.source and contract.source.path)
        ):
            raise ValueError(
                f"{where}: source='mtime' needs a file source (source.path in the contract, "
                "or data=)"
            )

    def _effective_contract(self) -> Contract | None:
        contract = self._load_contract()
        self._check_contract(contract)  # a templated path is known only now
        if contract is not None and self.conn_id:
            source = Source(conn_id=self.conn_id, table=self.table)
            contract = contract.model_copy(update={"source": source})
        return contract

    def _dataset(self, contract: Contract | None) -> str:
        if contract is not None:
            return contract.dataset
        assert self.asset is not None
        return self.asset.name

    def _limit(self, contract: Contract | None) -> timedelta:
        limit = freshness_limit(contract, self.max_age)
        assert limit is not None  # checked by _check_contract
        return limit

    # ------------------------------------------------------------------ reading

    def _read(
        self, context: Context, contract: Contract | None, state: WaitState, now: datetime
    ) -> Reading:
        reference = state.reference_at(now)
        if self.asset is not None:
            observation = self._newest_asset_event(context)
        else:
            observation = observe(
                self.source,
                freshness_only(contract) if self.source == "column" and contract else contract,
                data=self.data or None,
                table=None if self.conn_id else self.table or None,
                connections=engine_for_conn_id,
            )
        reading = Reading(
            self._dataset(contract),
            observation,
            reference,
            self._limit(contract),
            future_tolerance=future_tolerance(contract),
        )
        if observation.error:
            self.log.warning("%s; trying again at the next poke", reading.message)
        else:
            self.log.info("%s", reading.message)
        return reading

    def _newest_asset_event(self, context: Context) -> Observation:
        """The newest event of the asset, through the execution API (never the ORM)."""
        assert self.asset is not None
        where = f"asset {self.asset.name!r}"
        try:
            events = context["inlet_events"][self.asset].ascending(False).limit(1)
            newest = events[0].timestamp if len(events) else None
        except Exception as exc:  # the execution API's errors have no common base
            return Observation(newest=None, error=f"cannot read events of {where}: {exc}")
        return Observation(newest=None if newest is None else utc_instant(newest), source=where)

    # ------------------------------------------------------------------ waiting

    def _start(self, context: Context, now: datetime, started_at: datetime | None) -> WaitState:
        return start_waiting(
            now=now,
            started_at=started_at,
            reference=run_reference_time(context, self.freshness_reference),
            timeout=timedelta(seconds=self.timeout),
            sla=self.sla,
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """One look (poke and reschedule modes). In reschedule mode every poke is a new
        process: the start comes from Airflow's reschedule records and whether the SLA
        callback fired from the results store."""
        now = datetime.now(UTC)
        state = self._poke_state
        if state is None:
            started = context["ti"].get_first_reschedule_date(context) if self.reschedule else None
            state = self._start(context, now, started)
        contract = self._effective_contract()
        reading = self._read(context, contract, state, now)
        if reading.fresh:
            return PokeReturnValue(is_done=True, xcom_value=reading.to_json())
        self._poke_state = self._alert_if_due(context, state, reading, now)
        return False

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        now = datetime.now(UTC)
        return self._look_then_defer(context, self._start(context, now, None))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Resume from the trigger: done, alert and wait again, or time out."""
        state = WaitState.from_json(event["state"])
        status = event["status"]
        if status == "fresh":
            self.log.info("%s", event["message"])
            return event["reading"]
        if status == "timeout":
            self._time_out(state, event.get("message") or "")
        return self._look_then_defer(context, state)  # "sla_missed" or "poke"

    def _look_then_defer(self, context: Context, state: WaitState) -> Any:
        now = datetime.now(UTC)
        contract = self._effective_contract()
        reading = self._read(context, contract, state, now)
        if reading.fresh:
            return reading.to_json()
        state = self._alert_if_due(context, state, reading, now)
        if timed_out(state, datetime.now(UTC)):
            self._time_out(state, reading.message)
        self.defer(
            trigger=self._trigger(contract, reading, state),
            method_name="execute_complete",
            timeout=state.deadline - datetime.now(UTC) + DEFERRAL_GRACE,
        )

    def _trigger(
        self, contract: Contract | None, reading: Reading, state: WaitState
    ) -> FreshnessTrigger:
        kind = "asset" if self.asset is not None else self.source
        reduced = freshness_only(contract) if kind == "column" and contract else None
        data = self.data or None
        if kind == "mtime":
            data = file_location(contract, data)  # relative to the contract file
            # A storage connection travels with the source (and nothing else does).
            reduced = storage_only(contract) if contract else None
        return FreshnessTrigger(
            dataset=reading.dataset,
            source=kind,
            limit_seconds=reading.limit.total_seconds(),
            poke_interval=float(self.poke_interval),
            state=state.to_json(),
            contract=None if reduced is None else reduced.model_dump(mode="json", by_alias=True),
            contract_origin=None if reduced is None else reduced.origin,
            data=data,
            table=None if self.conn_id else self.table or None,
        )

    def _time_out(self, state: WaitState, message: str) -> NoReturn:
        text = (
            f"{self.task_id}: the data did not become fresh within the timeout "
            f"({format_duration(timedelta(seconds=self.timeout))} since "
            f"{state.started_at.isoformat()}): {message}"
        )
        if self.soft_fail or self.never_fail:
            raise AirflowSkipException(text)
        raise AirflowSensorTimeout(text)

    # ------------------------------------------------------------------ SLA

    def _alert_if_due(
        self, context: Context, state: WaitState, reading: Reading, now: datetime
    ) -> WaitState:
        """Record the SLA miss and call the callbacks, once per run; the new state."""
        if not sla_missed(state, reading, now):
            return state
        assert state.sla_due_at is not None and self.sla is not None
        miss = self._sla_miss(context, state.sla_due_at, reading, now)
        if self._claim(miss):
            self.log.warning("%s", miss.message)
            self._notify(context, miss, reading)
        else:
            self.log.info("the SLA miss of this run was reported before; not alerting again")
        return state.fired()

    def _sla_miss(
        self, context: Context, due_at: datetime, reading: Reading, now: datetime
    ) -> SlaMiss:
        from airflow_opsguard.store.sla import SlaMiss

        assert self.sla is not None
        ti = context["ti"]
        return SlaMiss(
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            task_id=ti.task_id,
            map_index=ti.map_index if ti.map_index is not None else -1,
            dataset=reading.dataset,
            sla=self.sla,
            due_at=due_at,
            missed_at=now,
            limit=reading.limit,
            age=reading.age,
            newest=reading.observation.newest,
            message=sla_message(reading, self.sla, due_at),
        )

    def _claim(self, miss: SlaMiss) -> bool:
        from airflow_opsguard.store import ResultStore

        try:
            with ResultStore(store_url_in_airflow(self.store, self.store_conn_id)) as store:
                return store.claim_sla_miss(miss)
        except StoreError as exc:
            self.log.warning("%s; alerting anyway, so this alert may repeat at the next poke", exc)
            return True

    def _notify(self, context: Context, miss: SlaMiss, reading: Reading) -> None:
        payload: dict[str, Any] = {
            **context,
            "dag_id": miss.dag_id,
            "run_id": miss.run_id,
            "task_id": miss.task_id,
            "map_index": miss.map_index,
            "dataset": miss.dataset,
            "age": miss.age,
            "newest": miss.newest,
            "limit": miss.limit,
            "sla": miss.sla,
            "sla_due_at": miss.due_at,
            "reference": reading.reference,
            "error": reading.observation.error,
            "message": miss.message,
            "sla_miss": miss,
        }
        for callback in self.sla_miss_callbacks:
            try:
                callback(payload)
            except Exception:
                # The miss stays recorded: a broken notifier must not page on every poke.
                self.log.exception("sla_miss_callback %r failed", callback)
        self._route_sla_miss(payload)

    def _route_sla_miss(self, payload: dict[str, Any]) -> None:
        """Alert the contract's routes that take ``sla_miss`` (alerts: in the contract)."""
        from airflow_opsguard.alerts.sla import send_sla_miss

        try:
            contract = self._load_contract()
        except Exception:
            self.log.exception("the contract's sla_miss routes could not be read")
            return
        if contract is not None and contract.alerts:
            store = store_url_in_airflow(self.store, self.store_conn_id)
            send_sla_miss(contract, payload, store=store)  # never raises


def _duration(
    value: timedelta | float | str | None, what: str, task_id: str, *, allow_zero: bool
) -> timedelta | None:
    if value is None:
        return None
    try:
        if isinstance(value, timedelta):
            duration = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            duration = timedelta(seconds=value)
        else:
            duration = parse_duration(value)
    except ValueError as exc:
        raise ValueError(f"{task_id}: {what}: {exc}") from None
    if duration < timedelta(0) or (duration == timedelta(0) and not allow_zero):
        raise ValueError(f"{task_id}: {what} must be longer than zero, not {value!r}")
    return duration


def _callbacks(
    value: SlaCallback | Mapping[str, Any] | Sequence[SlaCallback | Mapping[str, Any]] | None,
    task_id: str,
) -> tuple[SlaCallback, ...]:
    if value is None:
        return ()
    if isinstance(value, Mapping):  # one alert route, as in a contract's alerts
        value = [value]
    callbacks = (value,) if callable(value) else tuple(_route_callback(v) for v in value)
    for callback in callbacks:
        if not callable(callback):
            raise ValueError(
                f"{task_id}: sla_miss_callback must be a callable or a notifier, not {callback!r}"
            )
    return callbacks


def _route_callback(value: Any) -> Any:
    """An alert route mapping (``{"webhook": URL}``) as a callback that alerts it."""
    if isinstance(value, Mapping):
        from airflow_opsguard.deadlines import SlaMissAlerter

        return SlaMissAlerter([value])
    return value
