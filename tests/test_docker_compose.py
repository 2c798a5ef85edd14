"""docker-compose.yaml cannot run here (no Docker engine): check its structure instead."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def load() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_the_stack_has_every_airflow_3_component() -> None:
    services = load()["services"]
    assert {
        "postgres",
        "airflow-init",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",  # the freshness sensor defers to it
    } <= set(services)
    commands = {name: s.get("command") for name, s in services.items()}
    assert commands["airflow-api-server"] == "api-server"
    assert commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-triggerer"] == "triggerer"
    assert "airflow db migrate" in "".join(services["airflow-init"]["command"])


def test_airflow_services_install_this_working_tree_and_mount_the_examples() -> None:
    services = load()["services"]
    for name in ("airflow-init", "airflow-api-server", "airflow-scheduler", "airflow-triggerer"):
        service = services[name]
        build = service["build"]
        assert build["context"] == "."
        dockerfile = build["dockerfile_inline"]
        assert dockerfile.startswith("FROM apache/airflow:3.")
        assert "COPY --chown=airflow:root . /opt/airflow-opsguard" in dockerfile
        assert "pip install --no-cache-dir /opt/airflow-opsguard" in dockerfile
        assert "./dags_examples:/opt/airflow/dags" in service["volumes"]
        env = service["environment"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
        assert env["AIRFLOW__OPSGUARD__STORE_URL"].endswith("/opsguard")
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith(
            "http://airflow-api-server:8080"
        )


def test_airflow_waits_for_a_migrated_database() -> None:
    services = load()["services"]
    depends = services["airflow-scheduler"]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    assert depends["airflow-init"]["condition"] == "service_completed_successfully"
    assert "healthcheck" in services["postgres"]
