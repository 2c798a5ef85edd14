"""The "Quality report" button of gate tasks: the task instance's "Data quality" tab in
Airflow's own UI (or the report address the deployment configured)."""

from __future__ import annotations

from string import Formatter
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

from airflow_opsguard.runtime import attempt_run_id
from airflow_opsguard.urls import mask_url

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey

REPORT_PATH = "/opsguard/runs/{run_id}"


class QualityReportLink(BaseOperatorLink):
    """Opens the verdict of the gate attempt inside Airflow: the task instance's "Data
    quality" tab; with ``[opsguard] report_url`` set, that address instead."""

    name = "Quality report"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        identity = {
            "dag_id": ti_key.dag_id,
            "run_id": ti_key.run_id,
            "task_id": ti_key.task_id,
            "map_index": getattr(ti_key, "map_index", -1),
            "try_number": ti_key.try_number,
        }
        return report_link(identity, dataset=_dataset(operator))


def report_link(identity: dict[str, Any], dataset: str = "") -> str:
    """Where a gate attempt's verdict is read: ``[opsguard] report_url`` filled in, else
    the task instance's "Data quality" tab in Airflow's UI, under ``[opsguard] base_url``
    (or ``[api] base_url``) when set, else on the Airflow the link is opened in."""
    from airflow_opsguard.alerts.messages import TASK_TAB_PATH
    from airflow_opsguard.runtime import links_in_airflow

    settings = links_in_airflow()
    run_id = attempt_run_id(identity)
    base = (settings.base_url or "").rstrip("/")
    values = {
        "base_url": base,
        "run_id": run_id,
        "dataset": dataset,
        "dag_id": identity.get("dag_id") or "",
        "dag_run_id": identity.get("run_id") or "",
        "task_id": identity.get("task_id") or "",
        "map_index": identity.get("map_index", -1),
    }
    if settings.report_url:
        template = settings.report_url
    elif values["dag_id"] and values["dag_run_id"] and values["task_id"]:
        template = TASK_TAB_PATH
        if values["map_index"] not in (-1, None, ""):
            template = TASK_TAB_PATH.replace("/plugin/", "/mapped/{map_index}/plugin/")
    else:
        template = "{base_url}" + REPORT_PATH
    quoted = {k: v if k == "base_url" else quote(str(v), safe="") for k, v in values.items()}
    try:
        return mask_url(Formatter().vformat(template, (), quoted))
    except (KeyError, IndexError, ValueError):
        return base + REPORT_PATH.format(run_id=run_id)


def _dataset(operator: Any) -> str:
    contract = getattr(operator, "contract_object", None)
    if contract is not None:
        return str(contract.dataset)
    try:
        return str(operator._load_contract().dataset)
    except Exception:  # a templated or missing contract: the link works without it
        return ""
