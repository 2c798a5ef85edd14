"""The "Quality report" button of gate tasks: a link to the run's report page."""

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
    """Opens the report of the gate attempt: the stored result with this attempt's id
    (the link alerts carry too: ``[opsguard] report_url``, else ``base_url``)."""

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
    """The report URL of one gate attempt, as alerts build it; without any configured
    address, the path on this Airflow (``/opsguard/runs/<id>``)."""
    from airflow_opsguard.runtime import links_in_airflow

    settings = links_in_airflow()
    run_id = attempt_run_id(identity)
    base = (settings.base_url or "").rstrip("/")
    template = settings.report_url or "{base_url}" + REPORT_PATH
    values = {
        "base_url": base,
        "run_id": run_id,
        "dataset": dataset,
        "dag_id": identity.get("dag_id") or "",
        "dag_run_id": identity.get("run_id") or "",
        "task_id": identity.get("task_id") or "",
        "map_index": identity.get("map_index", -1),
    }
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
