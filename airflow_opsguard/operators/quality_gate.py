"""The quality gate: a task between two tasks that lets only good data through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from airflow_opsguard.assets import EXTRA_KEY as ASSET_EXTRA_KEY
from airflow_opsguard.checks.results import to_json_value
from airflow_opsguard.contract.models import ON_FAIL, Contract
from airflow_opsguard.decision import OnFail
from airflow_opsguard.operators import lineage, quarantine_step
from airflow_opsguard.operators.masking import mask_url_secrets
from airflow_opsguard.operators.quarantine_step import QuarantineThen
from airflow_opsguard.operators.report_link import QualityReportLink
from airflow_opsguard.runtime import (
    FRESHNESS_REFERENCES,
    FreshnessReference,
    attempt_run_id,
    gate_identity,
    load_cached,
    reference_time,
    resolve_contract_path,
    store_url_in_airflow,
)

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from airflow_opsguard.checks.results import GateResult
    from airflow_opsguard.pipeline import GateRun

XCOM_KEY = "opsguard_result"
QUARANTINED_XCOM_KEY = "opsguard_quarantined"


class QualityGateFailed(AirflowFailException):
    """The data failed its contract. Final: retrying the same data cannot help.

    The message lists every failing check with its numbers; the full result is in XCom
    (key ``opsguard_result``) and in the results store.
    """


class QualityGateError(AirflowException):
    """The data could not be checked because a source did not answer: retried."""


class GateMixin:
    """The gate's steps, shared by the operator and the ``@task.opsguard`` decorator:
    load the contract at parse time; at run time measure, store, publish, decide."""

    task_id: str
    contract_object: Contract | None
    contract_path: str | None
    on_fail: OnFail | None
    store: str | None
    store_conn_id: str | None
    freshness_reference: FreshnessReference
    alert_routes: list[Any]
    # After a quarantine: "skip" (downstream skips) or "fail" the task.
    quarantine_then: str = "skip"

    def _setup_gate(
        self,
        contract: str | Contract,
        on_fail: OnFail | None,
        store: str | None,
        store_conn_id: str | None,
        freshness_reference: FreshnessReference,
        alerts: Sequence[Any] | None = None,
    ) -> None:
        if on_fail is not None and on_fail not in ON_FAIL:
            raise ValueError(f"{self.task_id}: on_fail must be one of {ON_FAIL}, not {on_fail!r}")
        if freshness_reference not in FRESHNESS_REFERENCES:
            raise ValueError(
                f"{self.task_id}: freshness_reference must be one of {FRESHNESS_REFERENCES}, "
                f"not {freshness_reference!r}"
            )
        self.contract_object = contract if isinstance(contract, Contract) else None
        self.contract_path = None if isinstance(contract, Contract) else str(contract)
        self.on_fail = on_fail
        self.store = store
        self.store_conn_id = store_conn_id
        self.freshness_reference = freshness_reference
        self.alert_routes = list(alerts or ())
        self._check_alerts()
        self._check_quarantine_then()
        # Parse time: validate the contract (cheap, cached); never touch the data.
        if self.contract_path is None or "{{" not in self.contract_path:
            self._load_contract()

    def _mask_secrets(self) -> None:
        """Register the passwords of the URLs in the templated fields (and the store,
        templated or not) with Airflow's masker: Rendered Templates and the task's log
        show ``***`` instead. Called right after rendering, before Airflow stores the
        rendered values."""
        task: Any = self
        mask_url_secrets(*(getattr(self, f, None) for f in task.template_fields), self.store)

    def _load_contract(self) -> Contract:
        if self.contract_object is not None:
            return self.contract_object
        assert self.contract_path is not None
        task: Any = self
        dag_file = task.dag.fileloc if task.has_dag() else None
        return load_cached(resolve_contract_path(self.contract_path, dag_file))

    def _outcome(self, contract: Contract) -> OnFail:
        return self.on_fail or contract.on_fail

    def _check_quarantine_then(self) -> None:
        from airflow_opsguard.operators.quarantine_step import QUARANTINE_THEN

        if self.quarantine_then not in QUARANTINE_THEN:
            raise ValueError(
                f"{self.task_id}: quarantine_then must be one of {QUARANTINE_THEN}, "
                f"not {self.quarantine_then!r}"
            )

    def _check_alerts(self) -> None:
        from airflow_opsguard.alerts.routes import to_routes

        try:
            to_routes(self.alert_routes)
        except ValueError as exc:
            raise ValueError(f"{self.task_id}: {exc}") from None

    def _judge(
        self,
        context: Context,
        contract: Contract,
        *,
        data: Any,
        table: str | None,
        conn_id: str | None = None,
    ) -> dict[str, Any]:
        """Run the gate pipeline on ``data``, publish the verdict, and raise unless the
        data may go on."""
        from airflow_opsguard.connections import engine_for_conn_id
        from airflow_opsguard.pipeline import QuarantineError, run_gate
        from airflow_opsguard.report import render_text
        from airflow_opsguard.runtime import links_in_airflow, retries_left

        task: Any = self
        identity = gate_identity(context)
        try:
            run = run_gate(
                contract,
                data=data,
                table=table,
                conn_id=conn_id,
                now=reference_time(context, self.freshness_reference),
                on_fail=self.on_fail,
                store=store_url_in_airflow(self.store, self.store_conn_id),
                identity=identity,
                run_id=attempt_run_id(identity),
                act=True,
                alert=True,
                routes=self.alert_routes,
                notify_context=context,
                links=links_in_airflow(),
                will_retry=retries_left(self, context),
                connections=engine_for_conn_id,
            )
        except QuarantineError as exc:
            if exc.retryable:
                raise AirflowException(str(exc)) from None
            raise AirflowFailException(str(exc)) from None
        context["ti"].xcom_push(key=XCOM_KEY, value=run.payload)
        if run.settlement is not None and run.settlement.action in ("quarantined", "split"):
            # Read when the DAG run ends, to say so in its note (plugin.run_notes).
            context["ti"].xcom_push(key=QUARANTINED_XCOM_KEY, value=quarantined(run))
        if run.resumed:
            assert run.settlement is not None
            quarantine_step.finish(run.settlement, run.decision.reason, self.quarantine_then)
            return run.payload
        result = run.result
        assert result is not None
        self._remember_lineage(run.contract, result, data, None if conn_id else table)
        task.log.info("%s", render_text(result))
        alerts = run.alerts
        if alerts is not None and (alerts.events or alerts.deliveries or alerts.resent):
            task.log.info("alerts: %s", alerts.summary())
        decision = run.decision
        if decision.action == "retry":
            raise QualityGateError(decision.reason)
        if decision.action == "fail":
            raise QualityGateFailed(decision.reason)
        if run.settlement is not None:
            quarantine_step.finish(run.settlement, decision.reason, self.quarantine_then)
        if decision.action in ("skip", "quarantine"):
            raise AirflowSkipException(decision.reason)
        if result.status != "pass":
            task.log.warning("%s", decision.reason)
        self._annotate_outlets(context, result)
        return run.payload

    def _remember_lineage(
        self, contract: Contract, result: GateResult, data: Any, table: str | None
    ) -> None:
        """Keep what OpenLineage will ask for (only with its provider installed)."""
        if not lineage.provider_installed():
            return
        try:
            self._opsguard_lineage = (lineage.dataset_of(contract, data, table), result)
        except Exception as exc:  # lineage must never change a gate's outcome
            task: Any = self
            task.log.warning("no OpenLineage facets for this run: %s", exc)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The checked dataset with the verdict's data-quality facets (OpenLineage)."""
        remembered = getattr(self, "_opsguard_lineage", None)
        if remembered is None:
            return None
        return lineage.operator_lineage(*remembered)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """A failed gate reports the same facets: which checks failed, with numbers."""
        return self.get_openlineage_facets_on_complete(task_instance)

    def _annotate_outlets(self, context: Context, result: GateResult) -> None:
        """Outlet Assets carry the verdict, for the DAGs their events trigger."""
        task: Any = self
        assets = [o for o in task.outlets if isinstance(o, Asset)]
        if not assets:
            return
        summary = asset_summary(result)
        events = context["outlet_events"]
        for asset in assets:
            events[asset].extra[ASSET_EXTRA_KEY] = summary


class QualityGateOperator(GateMixin, BaseOperator):
    """Check the data an upstream task produced against a contract, and decide.

    :param contract: a contract file (relative paths are looked up next to the DAG file
        first) or a :class:`~airflow_opsguard.contract.models.Contract`. A file is
        loaded when the DAG is parsed, so a broken contract is an import error of the
        DAG that names the file and key.
    :param data: the data to check instead of the contract's source: a path, glob,
        fsspec URL or SQLAlchemy URL (templated, e.g. ``data/orders/{{ ds }}.parquet``).
    :param table: with a database source: the table to check (templated).
    :param conn_id: an Airflow connection to read the data through (templated). It
        replaces the contract's connection and keeps what the contract reads: a
        database source's table or query (``table`` overrides it), a Spark source's
        path, table or query, an object-storage URL. A contract with none of those
        needs ``table``.
    :param on_fail: what a failing verdict does: ``fail`` (the default, or the contract's
        ``on_fail``) fails the task at once, without retries; ``skip`` skips what is
        downstream; ``warn`` lets the run go on; ``quarantine`` moves the failing batch
        (or, with ``quarantine: {level: rows}``, its bad rows) aside, then skips what
        is downstream (see docs/quarantine.md). A verdict of ``error`` (the data
        could not be checked) never lets data through: the task fails, and is retried
        when the source did not answer.
    :param quarantine_then: after a quarantine, ``skip`` (default: downstream skips)
        or ``fail`` the task (without retries).
    :param store: the results store URL (default: ``[opsguard] store_url`` or
        ``store_conn_id``, else ``$AIRFLOW_HOME/opsguard.db``).
    :param store_conn_id: an Airflow connection for the results store.
    :param freshness_reference: what freshness is judged against:
        ``data_interval_end`` (default; a backfill judges its own interval's data),
        ``logical_date``, or ``now`` (the wall clock).
    :param alerts: alert routes added to the contract's: mappings as in a contract
        (``{"on": ["fail"], "webhook": URL}``), Airflow notifiers (``BaseNotifier``
        instances) or callables, alerted once per incident (see docs/alerts.md).

    The verdict (the JSON object of ``opsguard check --format json``) is pushed to XCom
    (key ``opsguard_result``) and returned; outlet Assets carry a summary of it in their
    event's ``extra``.
    """

    template_fields: Sequence[str] = ("contract_path", "data", "table", "conn_id", "store")
    ui_color = "#d9f2e3"
    # "Quality report": the report page of this attempt's stored verdict.
    operator_extra_links = (QualityReportLink(),)

    def __init__(
        self,
        *,
        contract: str | Contract,
        data: Any = None,
        table: str | None = None,
        conn_id: str | None = None,
        on_fail: OnFail | None = None,
        store: str | None = None,
        store_conn_id: str | None = None,
        freshness_reference: FreshnessReference = "data_interval_end",
        alerts: Sequence[Any] | None = None,
        quarantine_then: QuarantineThen = "skip",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data = data
        self.table = table
        self.conn_id = conn_id
        self.quarantine_then = quarantine_then
        self._setup_gate(
            contract, on_fail, store, store_conn_id, freshness_reference, alerts=alerts
        )

    def render_template_fields(
        self, context: Context, jinja_env: jinja2.Environment | None = None
    ) -> None:
        super().render_template_fields(context, jinja_env)
        self._mask_secrets()

    def execute(self, context: Context) -> dict[str, Any]:
        contract = self._load_contract()
        # A DataFrame from the upstream task's XCom has no truth value; "" (a template
        # that rendered empty) means the contract's own source.
        data = None if isinstance(self.data, str) and not self.data else self.data
        return self._judge(context, contract, data=data, table=self.table, conn_id=self.conn_id)


def quarantined(run: GateRun) -> dict[str, Any]:
    """What a DAG run's note says of a batch its gate set aside."""
    assert run.settlement is not None
    held = run.settlement.to_dict()
    return {
        "dataset": run.contract.dataset,
        "action": held["action"],
        "batch_id": held["batch_id"],
        "rows": held["rows"],
        "run_id": run.result.run_id if run.result is not None else None,
    }


def asset_summary(result: GateResult) -> dict[str, Any]:
    """The small, JSON-ready summary an asset event carries."""
    failing: Mapping[str, Any] = {
        c.name: to_json_value(c.observed)
        for c in result.checks
        if c.status in ("fail", "error", "warn")
    }
    return {
        "dataset": result.dataset,
        "status": result.status,
        "rows": result.rows,
        "checked_at": result.checked_at.isoformat(),
        "run_id": result.run_id,
        "contract_fingerprint": result.contract_fingerprint,
        "not_passing": dict(failing),
    }
