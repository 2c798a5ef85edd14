"""Provider metadata for Airflow (the ``apache_airflow_provider`` entry point).

Installing the package is all a user does: Airflow finds the operators, sensors,
triggers, the ``@task.opsguard`` decorator, the plugin, the "Quality report" operator
link and the ``[opsguard]`` configuration here. The plugin is registered through the
``airflow.plugins`` entry point too, which is what Airflow loads by default (a
provider's ``plugins`` are loaded only with ``[core] lazy_discover_providers = False``;
then Airflow keeps the first registration and warns about the second), as the
OpenLineage provider does.
"""

from __future__ import annotations

from typing import Any

from airflow_opsguard import __version__

INTEGRATION = "OpsGuard"


def get_provider_info() -> dict[str, Any]:
    modules = {
        "operators": ["airflow_opsguard.operators"],
        "sensors": ["airflow_opsguard.sensors"],
        "triggers": ["airflow_opsguard.triggers"],
    }
    return {
        "package-name": "airflow-opsguard",
        "name": "OpsGuard",
        "description": "Data quality gates: contracts, freshness SLAs, quarantine and alerts.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://pypi.org/project/airflow-opsguard/",
                "tags": ["software"],
            }
        ],
        **{
            kind: [{"integration-name": INTEGRATION, "python-modules": names}]
            for kind, names in modules.items()
        },
        "task-decorators": [
            {"name": "opsguard", "class-name": "airflow_opsguard.decorators.opsguard_task"}
        ],
        "plugins": [{"name": "opsguard", "plugin-class": "airflow_opsguard.plugin.OpsGuardPlugin"}],
        "extra-links": ["airflow_opsguard.operators.report_link.QualityReportLink"],
        "config": {
            "opsguard": {
                "description": "Where quality gates store their verdicts, and their defaults.",
                "options": {
                    "store_url": {
                        "description": "SQLAlchemy URL of the results store. Default: "
                        "a SQLite file, $AIRFLOW_HOME/opsguard.db.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "postgresql://opsguard@db/quality",
                        "default": None,
                        "sensitive": True,
                    },
                    "store_conn_id": {
                        "description": "An Airflow connection for the results store, "
                        "instead of store_url.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "opsguard_store",
                        "default": None,
                    },
                    "auto_migrate": {
                        "description": "Whether opening the results store migrates an "
                        "older schema itself (under a lock). False: workers never run DDL; "
                        "an old schema is an error saying to run `opsguard db upgrade`, and "
                        "results wait in the spool. Unset: true, or $OPSGUARD_AUTO_MIGRATE.",
                        "version_added": "0.1.0",
                        "type": "boolean",
                        "example": "False",
                        "default": None,
                    },
                    "retention": {
                        "description": "How long `opsguard store prune` keeps history "
                        "when it is given no --older-than (a duration: 90d, 12w, P90D).",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "90d",
                        "default": None,
                    },
                    "base_url": {
                        "description": "The Airflow UI's address, for the report link in "
                        "alerts (base_url/opsguard/runs/<result id>). Default: [api] base_url.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "https://airflow.example.com",
                        "default": None,
                    },
                    "report_url": {
                        "description": "The report link in alerts, a template with "
                        "{base_url}, {run_id}, {dataset}, {dag_id}, {dag_run_id}, {task_id}.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "{base_url}/opsguard/runs/{run_id}",
                        "default": None,
                    },
                },
            }
        },
    }
