#!/usr/bin/env bash
# The deploy step of docker-compose.yaml (service airflow-init), run once before the other
# services start. tests/test_docker_compose.py runs this file against a local PostgreSQL.
#
#   1. creates the results store's database ([opsguard] store_url) if it is missing;
#   2. migrates Airflow's metadata database:  airflow db migrate
#   3. migrates the results store:            opsguard db upgrade
#   4. writes SimpleAuthManager's passwords file, so the login is admin / admin
#      ($AIRFLOW_ADMIN_PASSWORD, default "admin");
#   5. run as root (compose runs it as 0:0): hands what the other services write (the
#      example DAGs' data folder, Airflow's home) to $AIRFLOW_UID:0, the user they run as.
set -euo pipefail

AIRFLOW_HOME="${AIRFLOW_HOME:-/opt/airflow}"
DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-${AIRFLOW_HOME}/dags}"
PASSWORDS_FILE="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-${AIRFLOW_HOME}/simple_auth_manager_passwords.json.generated}"

if [[ -z "${AIRFLOW_UID:-}" ]]; then
    echo "airflow-init: AIRFLOW_UID is not set; on Linux run 'export AIRFLOW_UID=\$(id -u)'" \
        "before 'docker compose up', or the example data will belong to uid 50000" >&2
fi
AIRFLOW_UID="${AIRFLOW_UID:-50000}"

echo "airflow-init: the results store's database"
python - <<'PY'
import os

import sqlalchemy as sa

from airflow_opsguard.store.urls import mask_url, parse_store_url

url = parse_store_url(os.environ["AIRFLOW__OPSGUARD__STORE_URL"])
if url.get_backend_name() == "postgresql" and url.database:
    # The same server and role; "postgres" is the maintenance database every server has.
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        found = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        ).first()
        if found is None:
            name = server.dialect.identifier_preparer.quote(url.database)
            connection.execute(sa.text(f"CREATE DATABASE {name}"))
            print(f"airflow-init: created {mask_url(url)}")
    server.dispose()
PY

echo "airflow-init: airflow db migrate"
airflow db migrate

echo "airflow-init: opsguard db upgrade"
opsguard db upgrade

echo "airflow-init: the login"
mkdir -p "$(dirname "${PASSWORDS_FILE}")"
AIRFLOW_ADMIN_PASSWORD="${AIRFLOW_ADMIN_PASSWORD:-admin}" python - "${PASSWORDS_FILE}" <<'PY'
import json
import os
import sys

with open(sys.argv[1], "w") as file:
    json.dump({"admin": os.environ["AIRFLOW_ADMIN_PASSWORD"]}, file)
    file.write("\n")
PY
echo "airflow-init: log in as admin with \$AIRFLOW_ADMIN_PASSWORD (default: admin)"

mkdir -p "${DAGS_FOLDER}/data"
if [[ "$(id -u)" == "0" ]]; then
    echo "airflow-init: handing the example data and ${AIRFLOW_HOME} to ${AIRFLOW_UID}:0"
    chown -R "${AIRFLOW_UID}:0" "${DAGS_FOLDER}/data"
    chown "${AIRFLOW_UID}:0" "${AIRFLOW_HOME}" "${PASSWORDS_FILE}"
    # What the commands above wrote in Airflow's home (logs, config), but not the DAG
    # files that are mounted from the host: only their data folder.
    find "${AIRFLOW_HOME}" -mindepth 1 -maxdepth 1 ! -path "${DAGS_FOLDER}" \
        -exec chown -R "${AIRFLOW_UID}:0" {} +
else
    echo "airflow-init: not root: ${DAGS_FOLDER}/data must be writable by uid $(id -u)"
fi
echo "airflow-init: done"
