"""Where the results store lives, and how its URL is shown without its secrets."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import sqlalchemy as sa

from airflow_opsguard.errors import StoreError

MASK = "***"

# Bare dialect names map onto the drivers that airflow-opsguard installs.
_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "token",
        "access_token",
        "auth_token",
        "api_key",
        "api-key",
        "apikey",
        "access_key",
        "secret_key",
        "secret_access_key",
        "aws_secret_access_key",
        "refresh_token",
        "secret",
        "client_secret",
        "sig",
        "signature",
        "sas_token",
        "private_key",
    }
)
# scheme://user:PASSWORD@host: the password runs to the last "@" before a blank, so an
# unescaped "@" or "/" in it is hidden too (at worst, a path with "@" is hidden as well).
_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/?#@]*:)\S*(?=@)")
# key=value secrets in query strings, DSNs and messages; a quoted value is masked whole.
_KEY_VALUE = re.compile(
    r"(?P<head>(?<![\w-])(?:" + "|".join(sorted(_SECRET_KEYS)) + r")\s*=\s*)"
    r"(?:'[^']*'|\"[^\"]*\"|[^&;\s,)'\"]+)",
    re.IGNORECASE,
)


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
    means a SQLite file.
    """
    if isinstance(url, str):
        text = url.strip()
        if not text:
            raise StoreError("the results store URL is empty")
        if "://" not in text:
            text = f"sqlite:///{Path(text).expanduser().absolute()}"
        try:
            parsed = sa.make_url(text)
        except (sa.exc.ArgumentError, ValueError) as exc:
            raise StoreError(
                f"invalid results store URL {mask_url(text)!r}: {mask_url(str(exc))}"
            ) from None
    else:
        parsed = url
    driver = _DRIVERS.get(parsed.drivername)
    if driver is not None:
        parsed = parsed.set(drivername=driver)
    if parsed.get_backend_name() in ("mysql", "mariadb") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed


def mask_url(url: str | sa.URL) -> str:
    """The URL with its password and secret query parameters replaced by ``***``.

    Use it wherever a URL may reach a log, a stored result, an alert or the UI. Works for
    SQLAlchemy URLs, generic ones (``https://user:pw@host/?token=...``) and URLs inside
    free text such as an error message. When unsure where a password ends, it hides more.
    """
    if isinstance(url, sa.URL):
        url = url.render_as_string(hide_password=False)
    text = _USERINFO.sub(lambda m: m.group("head") + MASK, url)
    return _KEY_VALUE.sub(lambda m: m.group("head") + MASK, text)


def spool_name(url: sa.URL) -> str:
    """A stable file name for the spool of one store (its password does not count)."""
    identity = url.render_as_string(hide_password=True)
    return hashlib.sha256(identity.encode()).hexdigest()[:16]
