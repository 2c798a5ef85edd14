"""The Airflow plugin: the "Data quality" dashboard and its API inside Airflow's UI.

Registered through the ``airflow.plugins`` entry point (never copied into
``plugins/``). The API server mounts the FastAPI app under ``/opsguard``; the UI shows
its pages through ``external_views``: a "Data quality" entry in the navigation and a
"Data quality" tab on task instances. Gate operators carry the "Quality report" link
(:mod:`airflow_opsguard.operators.report_link`).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_opsguard.plugin.app import create_app

URL_PREFIX = "/opsguard"
# No leading slash: Airflow's UI has <base href> set to its own root, so these work
# under a non-root base_url too.
NAV_VIEW: dict[str, Any] = {
    "name": "Data quality",
    "href": "opsguard/",
    "destination": "nav",
    "url_route": "opsguard",
    "icon": "opsguard/static/icon.svg",
    "icon_dark_mode": "opsguard/static/icon-dark.svg",
}
TASK_VIEW: dict[str, Any] = {
    "name": "Data quality",
    "href": (
        "opsguard/task?dag_id={DAG_ID}&run_id={RUN_ID}&task_id={TASK_ID}&map_index={MAP_INDEX}"
    ),
    "destination": "task_instance",
    "url_route": "opsguard-task",
}


class OpsGuardPlugin(AirflowPlugin):
    """airflow-opsguard's dashboard, API and links."""

    name = "opsguard"
    # Built once at import; never appended to (Airflow reads these class attributes).
    fastapi_apps = [  # noqa: RUF012 (AirflowPlugin declares these as plain attributes)
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "airflow-opsguard"}
    ]
    external_views = [NAV_VIEW, TASK_VIEW]  # noqa: RUF012


__all__ = ["OpsGuardPlugin", "create_app"]
