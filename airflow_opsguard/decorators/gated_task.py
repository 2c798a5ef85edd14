"""``@task.opsguard(contract=...)``: validate what a task returns before it leaves the task.

The function runs; its return value (a pandas DataFrame, an Arrow table, or a path or URL
to data) is checked against the contract; only a value that may go on is returned and
pushed to XCom. The verdict goes to XCom (key ``opsguard_result``) and to the store, as
for the gate operator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk.bases.decorator import DecoratedOperator, task_decorator_factory

from airflow_opsguard.operators.quality_gate import GateMixin
from airflow_opsguard.operators.report_link import QualityReportLink
from airflow_opsguard.runtime import FreshnessReference

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context
    from airflow.sdk.bases.decorator import TaskDecorator

    from airflow_opsguard.contract.models import Contract
    from airflow_opsguard.decision import OnFail
    from airflow_opsguard.operators.quarantine_step import QuarantineThen


class GatedTaskOperator(GateMixin, DecoratedOperator, PythonOperator):
    """The operator behind ``@task.opsguard``."""

    template_fields: Sequence[str] = ("templates_dict", "op_args", "op_kwargs", "contract_path")
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "templates_dict": "json",
        "op_args": "py",
        "op_kwargs": "py",
    }
    custom_operator_name: str = "@task.opsguard"
    operator_extra_links = (QualityReportLink(),)

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Any,
        op_kwargs: Any,
        contract: str | Contract,
        on_fail: OnFail | None = None,
        store: str | None = None,
        store_conn_id: str | None = None,
        freshness_reference: FreshnessReference = "data_interval_end",
        alerts: Sequence[Any] | None = None,
        quarantine_then: QuarantineThen = "skip",
        **kwargs: Any,
    ) -> None:
        super().__init__(
            kwargs_to_upstream={
                "python_callable": python_callable,
                "op_args": op_args,
                "op_kwargs": op_kwargs,
            },
            python_callable=python_callable,
            op_args=op_args,
            op_kwargs=op_kwargs,
            **kwargs,
        )
        self.quarantine_then = quarantine_then
        self._setup_gate(
            contract, on_fail, store, store_conn_id, freshness_reference, alerts=alerts
        )

    def render_template_fields(
        self, context: Context, jinja_env: jinja2.Environment | None = None
    ) -> None:
        super().render_template_fields(context, jinja_env)
        self._mask_secrets()

    def execute(self, context: Context) -> Any:
        value = super().execute(context)
        if value is None:
            raise TypeError(
                f"{self.task_id}: @task.opsguard checks what the task returns, and it returned "
                "None; return a DataFrame, an Arrow table, or a path or URL to the data"
            )
        self._judge(context, self._load_contract(), data=value, table=None)
        return value


def opsguard_task(
    python_callable: Callable[..., Any] | None = None,
    multiple_outputs: bool | None = None,
    **kwargs: Any,
) -> TaskDecorator:
    """``@task.opsguard(contract="contracts/orders.yml", on_fail="skip")``."""
    return task_decorator_factory(
        python_callable=python_callable,
        multiple_outputs=multiple_outputs,
        decorated_operator_class=GatedTaskOperator,
        **kwargs,
    )
