"""Database URLs as users paste them, and shown without their secrets.

Shared by the SQL engine and the results store: bare dialect names mean the drivers
airflow-opsguard installs, and every URL that may reach a log, a stored result, an alert
or the UI goes through :func:`mask_url` first.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

MASK = "***"

# Bare dialect names map onto the drivers that airflow-opsguard installs.
DRIVERS = {
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


def with_installed_driver(url: sa.URL) -> sa.URL:
    """``postgresql://`` and ``mysql://`` mean psycopg 3 and PyMySQL, which we install."""
    driver = DRIVERS.get(url.drivername)
    return url.set(drivername=driver) if driver is not None else url


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


def mask_text(text: str, url: sa.URL | None = None) -> str:
    """Free text (an error message) without passwords: ``url``'s own password wherever
    it appears, and anything that looks like a URL's password or a secret parameter."""
    if url is not None and url.password:
        text = text.replace(str(url.password), MASK)
    return mask_url(text)
