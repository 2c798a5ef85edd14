"""What the Airflow layer shares: contracts found next to DAG files, the store inside
Airflow, the time a run judges freshness against, and the identity of a gate attempt.

Airflow is imported inside the functions that need it, so the check core never loads it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from airflow_opsguard.alerts.messages import LinkSettings
from airflow_opsguard.contract.models import Contract
from airflow_opsguard.formats import load_contract

FreshnessReference = Literal["data_interval_end", "logical_date", "now"]
FRESHNESS_REFERENCES: tuple[str, ...] = ("data_interval_end", "logical_date", "now")
CONFIG_SECTION = "opsguard"
# Airflow's own fallback for [api] base_url in the links it builds (TaskInstance.log_url).
AIRFLOW_UI_FALLBACK = "http://localhost:8080/"
# Executors that run tasks on other machines, each with its own $AIRFLOW_HOME.
DISTRIBUTED_EXECUTORS = frozenset(
    {
        "CeleryExecutor",
        "KubernetesExecutor",
        "EdgeExecutor",
        "CeleryKubernetesExecutor",
        "LocalKubernetesExecutor",
        "AwsEcsExecutor",
        "AwsBatchExecutor",
        "AwsLambdaExecutor",
    }
)

log = logging.getLogger(__name__)
_warned_local_store = False


def resolve_contract_path(path: str, dag_file: str | None) -> str:
    """A relative contract path is looked up next to the DAG file first, then in the
    working directory, so `contract="contracts/orders.yml"` works on any worker."""
    if os.path.isabs(path) or dag_file is None:
        return path
    beside = os.path.join(os.path.dirname(dag_file), path)
    return beside if os.path.exists(beside) or not os.path.exists(path) else path


def load_cached(path: str) -> Contract:
    """Load a contract once per file version: DAG files are parsed again and again."""
    try:
        stat = os.stat(path)
    except OSError:
        return load_contract(path)  # raises a ContractError naming the file
    return _load(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _load(path: str, mtime_ns: int, size: int) -> Contract:
    return load_contract(path)


def config_value(key: str) -> str | None:
    """``[opsguard] key`` from Airflow's configuration (or AIRFLOW__OPSGUARD__KEY)."""
    from airflow.sdk.configuration import conf

    value = conf.get(CONFIG_SECTION, key, fallback=None)
    # Stripped: a value from a ``_cmd`` option ends with the command's newline.
    text = str(value).strip() if value else ""
    return text or None


def store_url_in_airflow(store: str | None = None, store_conn_id: str | None = None) -> str:
    """The results store for a task: the operator's, else ``[opsguard] store_url`` or
    ``store_conn_id``, else ``$OPSGUARD_STORE_URL``, else ``$AIRFLOW_HOME/opsguard.db``.

    Tasks cannot use Airflow's metadata database in Airflow 3; this store is ours. It also
    applies ``[opsguard] auto_migrate`` to the stores this process opens, and warns once
    when the executor runs tasks on other machines and each would keep its own SQLite file.
    """
    apply_auto_migrate()
    if store:
        return store
    conn_id = store_conn_id or config_value("store_conn_id")
    if conn_id:
        return connection_url(conn_id)
    configured = config_value("store_url") or os.environ.get("OPSGUARD_STORE_URL")
    if configured:
        return configured
    home = os.environ.get("AIRFLOW_HOME") or str(Path("~/airflow").expanduser())
    path = Path(home) / "opsguard.db"
    warn_if_store_is_local(path)
    return f"sqlite:///{path}"


def apply_auto_migrate() -> None:
    """``[opsguard] auto_migrate`` (default True): whether stores opened in this process
    migrate an old schema themselves; False leaves it to ``opsguard db upgrade``."""
    from airflow_opsguard.store.migrate import parse_flag, set_auto_migrate

    text = config_value("auto_migrate")
    set_auto_migrate(None if text is None else parse_flag(text, "[opsguard] auto_migrate"))


def distributed_executors(setting: str) -> list[str]:
    """The executors of a ``[core] executor`` setting that run tasks on other machines.

    The setting is a comma-separated list (the first is the default), each an executor
    name, a class path, or ``alias:name_or_path``; lists of teams follow ``;team=``.
    """
    found = []
    for team in setting.split(";"):
        for entry in team.rpartition("=")[2].split(","):
            name = entry.strip().rpartition(":")[2].rpartition(".")[2]
            if name in DISTRIBUTED_EXECUTORS and name not in found:
                found.append(name)
    return found


def warn_if_store_is_local(path: Path) -> bool:
    """Warn once per process when gates would keep their results in ``path``, a SQLite
    file of this machine, while the executor runs tasks on other machines; True if it
    warned (now or before)."""
    global _warned_local_store
    if _warned_local_store:
        return True
    from airflow.sdk.configuration import conf

    executors = distributed_executors(str(conf.get("core", "executor", fallback="") or ""))
    if not executors:
        return False
    _warned_local_store = True
    log.warning(
        "airflow-opsguard: the executor is %s, which runs tasks on other machines, and no "
        "shared results store is set: gate results go to %s, a SQLite file of this machine "
        "that the Airflow UI and the other workers never see. Set [opsguard] store_url "
        "(AIRFLOW__OPSGUARD__STORE_URL) or store_conn_id to a PostgreSQL or MySQL database "
        "that every worker and the API server reach, and run `opsguard db upgrade` once.",
        " and ".join(executors),
        path,
    )
    return True


def connection_url(conn_id: str) -> str:
    """A SQLAlchemy URL for an Airflow connection (password included: never log it)."""
    from airflow_opsguard.connections import engine_for_conn_id

    engine = engine_for_conn_id(conn_id)
    try:
        return engine.url.render_as_string(hide_password=False)
    finally:
        engine.dispose()


def reference_time(context: Mapping[str, Any], reference: FreshnessReference) -> datetime:
    """The "now" a run judges freshness against.

    ``data_interval_end`` (the default): a backfill of last month judges last month's
    data, and a scheduled run judges the data its interval covers. A manual run's
    interval ends when it was triggered, which is the clock. ``logical_date`` uses the
    run's logical date; ``now`` the wall clock.
    """
    return run_reference_time(context, reference) or datetime.now(UTC)


def run_reference_time(
    context: Mapping[str, Any], reference: FreshnessReference
) -> datetime | None:
    """The run's fixed instant that :func:`reference_time` means, or None when it means
    the wall clock (``now``, or a run with neither a data interval nor a logical date).
    A sensor that waits needs to know which: a fixed instant stays, the clock moves."""
    if reference != "now":
        value = context.get(reference) or context.get("logical_date")
        if isinstance(value, datetime):
            # A plain datetime: pendulum's instants drop a datetime.timezone.utc zone in
            # arithmetic.
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return datetime.fromtimestamp(value.timestamp(), UTC)
    return None


def gate_identity(context: Mapping[str, Any]) -> dict[str, Any]:
    """Where a verdict came from: DAG, run, task, map index and attempt."""
    ti = context.get("ti") or context.get("task_instance")
    identity: dict[str, Any] = {
        "dag_id": getattr(ti, "dag_id", None),
        "run_id": context.get("run_id") or getattr(ti, "run_id", None),
        "task_id": getattr(ti, "task_id", None),
        "map_index": getattr(ti, "map_index", -1),
        "try_number": getattr(ti, "try_number", None),
    }
    return {k: v for k, v in identity.items() if v is not None}


def attempt_run_id(identity: Mapping[str, Any]) -> str:
    """A stable id for one attempt of one gate task: storing it twice is a no-op."""
    key = "\x1f".join(
        str(identity.get(k, "")) for k in ("dag_id", "run_id", "task_id", "map_index", "try_number")
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


# ------------------------------------------------------------------ alerting from a task


def links_in_airflow() -> LinkSettings:
    """``[opsguard] report_url`` and ``[opsguard] base_url`` (else ``[api] base_url``),
    or the environment's; and Airflow's own address for links into its UI (a gate's
    "Data quality" tab): ``[opsguard] base_url``, else ``[api] base_url``, else what
    Airflow itself falls back to for its task log links (``http://localhost:8080``), so
    that alerts carry a link without any setting."""
    found = LinkSettings.from_environment()
    report = config_value("report_url") or found.report_url
    base = config_value("base_url") or found.base_url or _api_base_url()
    return LinkSettings(report_url=report, base_url=base, airflow_url=base or AIRFLOW_UI_FALLBACK)


def retries_left(task: Any, context: Mapping[str, Any]) -> bool:
    """Whether Airflow will try this task again after this attempt fails."""
    ti = context.get("ti")
    try_number = getattr(ti, "try_number", None)
    retries = getattr(task, "retries", 0) or 0
    return try_number is not None and int(try_number) <= int(retries)


def _api_base_url() -> str | None:
    try:
        from airflow.sdk.configuration import conf

        value = conf.get("api", "base_url", fallback=None)
    except Exception:  # an older or partial configuration: no link
        return None
    return str(value) if value else None
