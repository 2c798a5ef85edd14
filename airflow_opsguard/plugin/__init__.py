"""The Airflow plugin: the "Data quality" dashboard and its API inside Airflow's UI.

Registered through the ``airflow.plugins`` entry point (never copied into
``plugins/``). The API server mounts the FastAPI app under ``/opsguard``; the UI shows
its pages through ``external_views``: a "Data quality" entry in the navigation and a
"Data quality" tab on task instances. Gate operators carry the "Quality report" link
(:mod:`airflow_opsguard.operators.report_link`). A listener notes quarantines on DAG runs
(:mod:`airflow_opsguard.plugin.run_notes`).

Airflow imports every installed plugin in each task's process, in the scheduler and in
the DAG processor, not only in the API server. So this module imports nothing of the
dashboard: the app (FastAPI, Airflow's API-server security, templates) is built the
first time the API server reads ``fastapi_apps``, and only there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.plugins_manager import AirflowPlugin

if TYPE_CHECKING:
    from fastapi import FastAPI

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


def create_app() -> FastAPI:
    """The dashboard's FastAPI app (imported and built on call, never at import)."""
    from airflow_opsguard.plugin.app import create_app as build

    return build()


class OpsGuardPlugin(AirflowPlugin):
    """airflow-opsguard's dashboard, API and links."""

    name = "opsguard"
    external_views = [NAV_VIEW, TASK_VIEW]  # noqa: RUF012 (AirflowPlugin declares lists)

    @property
    def listeners(self) -> list[Any]:  # type: ignore[override]
        """A DAG run whose data a gate quarantined says so in its note; imported when
        Airflow builds its listeners (where DAG runs end), not with the plugin."""
        from airflow_opsguard.plugin import run_notes

        return [run_notes]

    @property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        """The app, built on first read: Airflow reads this in the API server only."""
        return [{"app": _app(), "url_prefix": URL_PREFIX, "name": "airflow-opsguard"}]


_built: list[FastAPI] = []


def _app() -> FastAPI:
    # One app per process, however often Airflow reads the plugin's attributes.
    if not _built:
        _built.append(create_app())
    return _built[0]


__all__ = ["OpsGuardPlugin", "create_app"]
