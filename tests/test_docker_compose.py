"""docker-compose.yaml, run as far as it runs without a container runtime: its structure,
then its deploy step (the airflow-init script) and its api-server, with the compose
environment against the local PostgreSQL (the service host ``postgres`` becomes
127.0.0.1, and the credentials a throwaway role with its own databases)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from plugin.server import start_api_server, stop, wait_healthy

from airflow_opsguard.store import store_state
from airflow_opsguard.store.migrate import HEAD

ROOT = Path(__file__).resolve().parents[1]
CONTAINER_HOME = "/opt/airflow"  # AIRFLOW_HOME in the apache/airflow images
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def load() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    return found


# ------------------------------------------------------------------------------ structure


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


def test_airflow_services_install_this_working_tree_and_mount_the_examples() -> None:
    services = load()["services"]
    for name in ("airflow-init", "airflow-api-server", "airflow-scheduler", "airflow-triggerer"):
        service = services[name]
        build = service["build"]
        assert build["context"] == "."
        dockerfile = build["dockerfile_inline"]
        assert dockerfile.startswith("FROM apache/airflow:3.")
        assert "COPY --chown=airflow:root . /opt/airflow-opsguard" in dockerfile
        # psycopg 3 is the [postgres] extra; Airflow stays the image's version.
        assert '"/opt/airflow-opsguard[postgres]"' in dockerfile
        assert '"apache-airflow==$${AIRFLOW_VERSION}"' in dockerfile  # $$: not compose's
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


def test_the_deploy_step_is_a_mounted_script_run_as_root() -> None:
    init = load()["services"]["airflow-init"]
    script = init_script(init)
    assert script == ROOT / "deploy" / "airflow-init.sh"
    text = script.read_text()
    assert "airflow db migrate" in text
    assert "opsguard db upgrade" in text
    assert init["user"] == "0:0"  # to hand the data folder to AIRFLOW_UID
    assert init["environment"]["AIRFLOW_UID"].startswith("${AIRFLOW_UID")
    for name, service in load()["services"].items():
        if name.startswith("airflow-") and name != "airflow-init":
            assert service["user"] == "${AIRFLOW_UID:-50000}:0"


def test_the_passwords_file_is_on_a_volume_that_init_and_the_api_server_share() -> None:
    services = load()["services"]
    path = services["airflow-api-server"]["environment"][
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"
    ]
    mounts = {}
    for name in ("airflow-init", "airflow-api-server"):
        [volume] = [v for v in services[name]["volumes"] if path.startswith(v.split(":")[1] + "/")]
        mounts[name] = volume
    assert mounts["airflow-init"] == mounts["airflow-api-server"]
    assert mounts["airflow-init"].split(":")[0] in load()["volumes"]  # a named volume


def test_the_header_documents_the_login_and_airflow_uid() -> None:
    header = (ROOT / "docker-compose.yaml").read_text().split("\n\n")[0]
    assert "admin / admin" in header
    assert "export AIRFLOW_UID=$(id -u)" in header


# ----------------------------------------------------------- the stack, run on this host


def init_script(init: Mapping[str, Any]) -> Path:
    """The host file behind the script that the airflow-init command runs."""
    [command] = init["command"]
    for volume in init["volumes"]:
        host, container = volume.split(":")[:2]
        if command.startswith(container + "/"):
            return ROOT / host / command[len(container) + 1 :]
    raise AssertionError(f"{command} is not in a mounted folder")


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``$$`` in a value."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, default = match.group(1), match.group(2) or ""
        return variables.get(name) or default

    return re.sub(r"\$\$|\$\{(\w+)(?::-([^}]*))?\}", one, value)


def on_this_host(
    environment: Mapping[str, str], *, role: str, password: str, home: Path, prefix: str
) -> dict[str, str]:
    """The compose environment with the ``postgres`` service's URLs pointing at a
    throwaway role and databases of the local server, and /opt/airflow at ``home``."""
    local = {}
    for key, value in environment.items():
        try:
            url = sa.make_url(value)
        except (sa.exc.ArgumentError, ValueError):
            url = None
        if url is not None and url.host == "postgres":
            value = url.set(
                username=role,
                password=password,
                host="127.0.0.1",
                port=5432,
                database=f"{prefix}_{url.database}",
            ).render_as_string(hide_password=False)
        local[key] = value.replace(CONTAINER_HOME, str(home))
    return local


@dataclass
class Stack:
    home: Path
    env: dict[str, str]  # airflow-init's, on this host
    init_output: str
    uid: int
    base: str  # the api-server


def service_env(name: str, variables: Mapping[str, str], **local: Any) -> dict[str, str]:
    environment = load()["services"][name]["environment"]
    given = {k: interpolate(str(v), variables) for k, v in environment.items()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "OPSGUARD_"))}
    env.update(on_this_host(given, **local))
    env["AIRFLOW_HOME"] = str(local["home"])  # set by the image
    env["OPSGUARD_HOME"] = str(local["home"] / "opsguard-home")  # no test writes to ~
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_init(stack_env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    script = init_script(load()["services"]["airflow-init"])
    return subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, env=dict(stack_env), check=False
    )


@pytest.fixture(scope="module")
def stack(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """airflow-init's script, then the api-server, with the compose environment here."""
    home = tmp_path_factory.mktemp("compose") / "airflow"
    shutil.copytree(
        ROOT / "dags_examples",
        home / "dags",
        ignore=shutil.ignore_patterns("data", "__pycache__"),
    )  # the ./dags_examples mount
    prefix = f"opsguard_compose_{uuid.uuid4().hex[:8]}"
    role, password = prefix, "compose-pw"
    uid = 54321 if os.geteuid() == 0 else os.getuid()
    variables = {"AIRFLOW_UID": str(uid)}
    local = {"role": role, "password": password, "home": home, "prefix": prefix}
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        # What the postgres service's POSTGRES_USER / POSTGRES_DB make.
        connection.execute(sa.text(f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'"))
        connection.execute(sa.text(f"CREATE DATABASE {prefix}_airflow OWNER {role}"))
    server = None
    try:
        env = service_env("airflow-init", variables, **local)
        init = run_init(env)
        assert init.returncode == 0, init.stdout[-4000:] + init.stderr[-4000:]
        api_env = service_env("airflow-api-server", variables, **local)
        server, base = start_api_server(api_env, home / "api-server.log")
        wait_healthy(server, base, home / "api-server.log", 180)
        yield Stack(home, env, init.stdout + init.stderr, uid, base)
    finally:
        if server is not None:
            stop(server)
        with admin.connect() as connection:
            for database in ("airflow", "opsguard"):
                connection.execute(
                    sa.text(f"DROP DATABASE IF EXISTS {prefix}_{database} WITH (FORCE)")
                )
            connection.execute(sa.text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()


def request(
    url: str, *, data: dict[str, str] | None = None, token: str | None = None
) -> tuple[int, str]:
    """Status and body, without following redirects (a login page is not a 200)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    headers = {"Content-Type": "application/json"} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(data).encode() if data is not None else None
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, body, headers), timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.postgres
def test_init_migrates_airflows_database_and_the_results_store(stack: Stack) -> None:
    airflow_db = stack.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    engine = sa.create_engine(airflow_db)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert sa.inspect(connection).has_table("dag_run")
    engine.dispose()

    store = stack.env["AIRFLOW__OPSGUARD__STORE_URL"]
    assert store.endswith("_opsguard")  # the database the script created
    state = store_state(store)
    assert (state.revision, state.current) == (HEAD, True)
    # `opsguard db upgrade` found the store through Airflow's [opsguard] store_url.
    assert f"_opsguard: schema {HEAD} (migrated from an empty database)" in stack.init_output
    assert "compose-pw" not in stack.init_output


@pytest.mark.postgres
def test_init_writes_the_documented_login_and_hands_the_data_to_airflow_uid(
    stack: Stack,
) -> None:
    passwords = Path(stack.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    assert json.loads(passwords.read_text()) == {"admin": "admin"}
    data = stack.home / "dags" / "data"  # where dags_examples/example_data.py writes
    assert data.is_dir()
    if os.geteuid() == 0:  # the compose service runs it as root
        assert data.stat().st_uid == stack.uid
        assert passwords.stat().st_uid == stack.uid
        assert (stack.home / "dags" / "demo.py").stat().st_uid == 0  # DAG files left alone


@pytest.mark.postgres
def test_admin_admin_logs_in_and_opens_the_dashboard(stack: Stack) -> None:
    status, body = request(
        f"{stack.base}/auth/token", data={"username": "admin", "password": "admin"}
    )
    assert status in (200, 201), body
    token = json.loads(body)["access_token"]

    status, page = request(f"{stack.base}/opsguard/", token=token)
    assert status == 200, page[:500]
    assert "Data quality" in page

    anonymous, _ = request(f"{stack.base}/opsguard/")
    assert anonymous != 200
    wrong, _ = request(f"{stack.base}/auth/token", data={"username": "admin", "password": "x"})
    assert wrong in (401, 403)


@pytest.mark.postgres
def test_init_runs_again_on_the_next_up(stack: Stack) -> None:
    again = run_init(stack.env)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    assert f"_opsguard: schema {HEAD} (current)" in again.stdout
    assert "created postgresql" not in again.stdout  # the database was there
