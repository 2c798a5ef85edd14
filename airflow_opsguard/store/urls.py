"""Where the results store lives."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import sqlalchemy as sa

from airflow_opsguard.errors import StoreError
from airflow_opsguard.urls import database_url, mask_url, with_installed_driver

__all__ = ["default_store_url", "mask_url", "opsguard_home", "parse_store_url", "spool_name"]


def opsguard_home() -> Path:
    """``$OPSGUARD_HOME``, or ``~/.opsguard``: where the spool and the default store live."""
    home = os.environ.get("OPSGUARD_HOME")
    return Path(home).expanduser() if home else Path.home() / ".opsguard"


def default_store_url() -> str:
    """The store used when none is given, so that every gate on a machine shares one history.

    ``$OPSGUARD_STORE_URL`` when set; else a SQLite file ``$OPSGUARD_HOME/opsguard.db``;
    else, inside an Airflow installation (``$AIRFLOW_HOME`` set), ``$AIRFLOW_HOME/opsguard.db``;
    else ``~/.opsguard/opsguard.db``.
    """
    url = os.environ.get("OPSGUARD_STORE_URL", "").strip()
    if url:
        return url
    airflow_home = os.environ.get("AIRFLOW_HOME")
    if airflow_home and not os.environ.get("OPSGUARD_HOME"):
        folder = Path(airflow_home).expanduser()
    else:
        folder = opsguard_home()
    return f"sqlite:///{folder.absolute() / 'opsguard.db'}"


def parse_store_url(url: str | sa.URL) -> sa.URL:
    """A SQLAlchemy URL with a driver that is installed.

    ``postgresql://`` and ``mysql://`` mean psycopg 3 and PyMySQL; a plain file path
    means a SQLite file. A password is read whole whatever it holds (``@``, ``:``,
    ``/`` unescaped), and an error shows the URL masked, never a piece of it.
    """
    if isinstance(url, str):
        text = url.strip()
        if not text:
            raise StoreError("the results store URL is empty")
        if "://" not in text:
            text = f"sqlite:///{Path(text).expanduser().absolute()}"
        try:
            parsed = database_url(text)
        except ValueError as exc:
            raise StoreError(f"invalid results store URL: {exc}") from None
    else:
        parsed = with_installed_driver(url)
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def spool_name(url: sa.URL) -> str:
    """A stable file name for the spool of one store (its password does not count)."""
    identity = url.render_as_string(hide_password=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]
