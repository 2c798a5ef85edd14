"""URLs parsed once, and shown without their secrets.

Shared by the SQL engine, the results store, the quarantine and the alerts. A URL that
may reach a log, a stored result, an alert or the UI is either a :class:`SecretURL`
(parsed once; its password is never rendered) or goes through :func:`mask_url` /
:func:`mask_text` first. Bare dialect names mean the drivers airflow-opsguard installs.

Where a password ends: RFC 3986 wants ``@``, ``:`` and ``/`` escaped in a URL's
user information, and people paste them as they are (``postgresql://u:p@ss:w/rd@host``).
The user information runs to the *rightmost* ``@`` whose user name (the part before
the first ``:``) holds no ``/``, ``?``, ``#`` or blank, so whatever the password holds
is hidden; when unsure, more is hidden, never less.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

import sqlalchemy as sa

MASK = "***"

# Bare dialect names map onto the drivers that airflow-opsguard installs.
DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}

# Names of parameters whose values are secrets, in query strings, DSNs and messages:
# anything about a token, secret, password, signature or credential, the keys of APIs
# and clouds, and the short ones (key, sig, pass, auth).
_SECRET_NAME = (
    r"(?:[\w.\-]*?(?:token|secret|passw(?:or)?d|pwd|signature|credential"
    r"|api[_\-]?key|access[_\-]?key|private[_\-]?key|subscription[_\-]?key"
    r"|client[_\-]?key|account[_\-]?key)[\w.\-]*|key|sig|pass|auth)"
)
_SECRET_NAME_RE = re.compile(_SECRET_NAME, re.IGNORECASE)
# key=value secrets in query strings, DSNs and messages; a quoted value is masked whole.
# Not after a "/": a folder named like ``key=2024`` (a Hive partition) is a path.
_KEY_VALUE = re.compile(
    r"(?P<head>(?<![\w.\-/])" + _SECRET_NAME + r"\s*=\s*)"
    r"(?:'[^']*'|\"[^\"]*\"|[^&;\s,)'\"]+)",
    re.IGNORECASE,
)
# scheme://user:PASSWORD@host inside free text, the password running to the last "@"
# before a blank (kept for callers that look for secrets with a pattern; masking itself
# goes through SecretURL's rule, which also takes passwords with blanks).
_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/?#@]*:)\S*(?=@)")
_URL_START = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://")
_NOT_IN_USER = re.compile(r"[\s/?#\[\]]")
_USER_HEAD = re.compile(r"[^\s:/?#@\[\]]*:")
_PORT_NEXT = re.compile(r"\d*(?:[/?#\s]|$)")
_HOST_START = re.compile(r"[A-Za-z0-9\[]")
_PARAM = re.compile(r"(?P<head>[?&;#](?P<name>[^=&;#?]*)=)(?P<value>[^&;#]*)")


class SecretURL:
    """A URL parsed once, whose password is never rendered.

    ``str()``, ``repr()``, ``format()`` and f-strings give the masked form
    (``postgresql://etl:***@db/x?sslmode=require``, secret query parameters masked too);
    ``json.dumps`` refuses it (``default=str`` gives the masked form). The password is
    only handed to what connects: :meth:`to_sqlalchemy` and :meth:`reveal`.
    """

    __slots__ = ("_password", "host", "rest", "scheme", "username")

    scheme: str
    username: str | None
    host: str
    rest: str
    _password: str | None

    def __init__(
        self, scheme: str, username: str | None, password: str | None, host: str, rest: str
    ) -> None:
        object.__setattr__(self, "scheme", scheme)
        object.__setattr__(self, "username", username)
        object.__setattr__(self, "_password", password)
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "rest", rest)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a SecretURL cannot be changed")

    def __reduce__(self) -> tuple[Any, ...]:
        return (SecretURL, self._key())

    @classmethod
    def parse(cls, text: str) -> SecretURL:
        """Parse ``scheme://[user[:password]@]host[:port][/path][?query][#fragment]``;
        ValueError (naming no part of ``text``) when it does not start with a scheme."""
        match = _URL_START.match(text)
        if match is None:
            raise ValueError("not a URL (scheme://...)")
        scheme = text[: match.end() - 3]
        after = text[match.end() :]
        username: str | None = None
        password: str | None = None
        cut = _userinfo_end(after, blanks=True)
        if cut is not None:
            user, colon, secret = after[:cut].partition(":")
            username, password = user, (secret if colon else None)
            after = after[cut + 1 :]
        end = next((i for i, c in enumerate(after) if c in "/?#"), len(after))
        return cls(scheme, username, password, after[:end], after[end:])

    @classmethod
    def of(cls, url: str | sa.URL | SecretURL) -> SecretURL:
        """A SecretURL from text, a SQLAlchemy URL (re-read with the rule above, so a
        password SQLAlchemy split at its first ``@`` is whole again) or a SecretURL."""
        if isinstance(url, SecretURL):
            return url
        if isinstance(url, sa.URL):
            return cls.parse(url.render_as_string(hide_password=False))
        return cls.parse(url.strip())

    @property
    def has_password(self) -> bool:
        return self._password is not None

    @property
    def masked(self) -> str:
        """The URL as it may be shown: password and secret parameters as ``***``."""
        auth = ""
        if self.username is not None:
            auth = self.username + (f":{MASK}" if self._password is not None else "") + "@"
        return f"{self.scheme}://{auth}{self.host}{mask_parameters(self.rest)}"

    def reveal(self) -> str:
        """The URL as written, password included: for connecting, never for showing."""
        auth = ""
        if self.username is not None:
            secret = f":{self._password}" if self._password is not None else ""
            auth = f"{self.username}{secret}@"
        return f"{self.scheme}://{auth}{self.host}{self.rest}"

    def secrets(self) -> list[str]:
        """The password as written and percent-decoded (a message may quote either),
        and the values of secret parameters: what to hide in free text."""
        found: list[str] = []
        if self._password:
            found += [self._password, unquote(self._password)]
        found += [m.group("value") for m in _secret_parameters(self.rest)]
        return list(dict.fromkeys(s for s in found if s and s != MASK))

    def to_sqlalchemy(self) -> sa.URL:
        """The SQLAlchemy URL, its user information escaped so that SQLAlchemy (which
        splits at the first ``@``) reads the password whole; bare dialect names mean the
        installed drivers. ValueError (the URL masked) when SQLAlchemy cannot read it."""
        auth = ""
        if self.username is not None:
            auth = quote(unquote(self.username), safe="")
            if self._password is not None:
                auth += ":" + quote(unquote(self._password), safe="")
            auth += "@"
        try:
            parsed = sa.make_url(f"{self.scheme}://{auth}{self.host}{self.rest}")
        except (sa.exc.ArgumentError, ValueError):
            raise ValueError(
                f"{self.masked} is not a database URL (dialect+driver://user:password@host"
                ":port/database); check its host, port and escaping"
            ) from None
        return with_installed_driver(parsed)

    def _key(self) -> tuple[str, str | None, str | None, str, str]:
        return (self.scheme, self.username, self._password, self.host, self.rest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretURL) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"SecretURL({self.masked!r})"

    def __format__(self, spec: str) -> str:
        return format(self.masked, spec)


def database_url(url: str | sa.URL | SecretURL) -> sa.URL:
    """A database URL as SQLAlchemy takes it, whatever its password holds
    (``postgresql://u:p@ss:w/rd@host/db`` connects as ``u`` with ``p@ss:w/rd``).
    ValueError, naming the URL masked, when it is not one."""
    if isinstance(url, sa.URL):
        return with_installed_driver(url)
    return SecretURL.of(url).to_sqlalchemy()


def with_installed_driver(url: sa.URL) -> sa.URL:
    """``postgresql://`` and ``mysql://`` mean psycopg 3 and PyMySQL, which we install."""
    driver = DRIVERS.get(url.drivername)
    return url.set(drivername=driver) if driver is not None else url


def is_secret_name(name: str) -> bool:
    """Whether a parameter called ``name`` holds a secret (token, key, password, sig...)."""
    return _SECRET_NAME_RE.fullmatch(name.strip()) is not None


def mask_parameters(text: str) -> str:
    """``text`` (a URL's path, query and fragment) with secret parameters' values masked."""
    return _PARAM.sub(
        lambda m: m.group("head") + MASK if is_secret_name(m.group("name")) else m.group(0), text
    )


def mask_url(url: str | sa.URL | SecretURL) -> str:
    """The URL with its password and secret query parameters replaced by ``***``.

    Use it wherever a URL may reach a log, a stored result, an alert or the UI. Works for
    SQLAlchemy URLs, generic ones (``https://user:pw@host/?token=...``) and URLs inside
    free text such as an error message. When unsure where a password ends, it hides more.
    """
    if isinstance(url, sa.URL | SecretURL):
        return SecretURL.of(url).masked
    return mask_text(url)


def mask_text(text: str, url: str | sa.URL | SecretURL | None = None) -> str:
    """Free text (an error message) without passwords: ``url``'s own password (and what
    a driver made of it) wherever it appears, and anything that looks like a URL's
    password or a secret parameter."""
    if url is not None:
        for secret in secrets_of(url):
            text = text.replace(secret, MASK + "@" if secret.endswith("@") else MASK)
    single = _single_url(text)
    if single is not None:
        return single.masked  # its parameters masked as a URL's (a "#" ends a value)
    text = "\n".join(_mask_userinfo(line) for line in text.split("\n"))
    return _KEY_VALUE.sub(lambda m: m.group("head") + MASK, text)


def secrets_of(url: str | sa.URL | SecretURL) -> list[str]:
    """What to hide of ``url`` in free text: its password as written and decoded, its
    secret parameters, and (for a SQLAlchemy URL that split an unescaped password at
    its first ``@``) the part of the password SQLAlchemy took for the host. Secrets of
    fewer than three characters are left to the URL patterns (they would hide words)."""
    try:
        found = SecretURL.of(url).secrets()
    except ValueError:
        found = []
    if isinstance(url, sa.URL):
        if url.password:
            found.append(str(url.password))
        # SQLAlchemy took the rest of the password for the host (or the database): a
        # driver's message quotes it as "REST@host"; hidden with its "@" at any length.
        for part in (url.host or "", url.database or ""):
            if url.password is not None and "@" in part:
                found += [part.rpartition("@")[0] + "@", part.rpartition("@")[0]]
    found = [s for s in dict.fromkeys(found) if len(s) >= 3]
    return sorted(found, key=len, reverse=True)  # the whole before its parts


def secrets_in(text: str) -> list[str]:
    """The passwords and secret parameter values of the URLs in ``text`` (each as
    written and percent-decoded), e.g. to register them with a log masker."""
    found: list[str] = []
    single = _single_url(text)
    if single is not None:
        found += single.secrets()
    for line in text.split("\n"):
        for start, cut in _userinfo_spans(line):
            userinfo = line[start:cut]
            _, colon, secret = userinfo.partition(":")
            if colon and secret and secret != MASK:
                found += [secret, unquote(secret)]
    for match in _KEY_VALUE.finditer(text):
        secret = match.group(0)[len(match.group("head")) :]
        if len(secret) >= 2 and secret[0] == secret[-1] and secret[0] in "'\"":
            secret = secret[1:-1]
        found += [secret, unquote(secret)]
    return [s for s in dict.fromkeys(found) if s and s != MASK]


# ------------------------------------------------------------------ helpers


def _secret_parameters(text: str) -> list[re.Match[str]]:
    return [m for m in _PARAM.finditer(text) if is_secret_name(m.group("name"))]


def _valid_user(userinfo: str) -> bool:
    return _NOT_IN_USER.search(userinfo.partition(":")[0]) is None


def _userinfo_end(text: str, *, blanks: bool) -> int | None:
    """Where the user information of ``text`` (a URL after its ``scheme://``) ends: the
    index of its ``@``, or None when it has none.

    The rightmost ``@`` before the first blank whose user name is plausible; with
    ``blanks`` (the text is one URL), the rightmost one in the whole text."""
    stop = len(text) if blanks else next((i for i, c in enumerate(text) if c.isspace()), len(text))
    for index in range(stop - 1, -1, -1):
        if text[index] == "@" and _valid_user(text[:index]):
            return index
    if blanks:
        return None
    # A password with blanks in free text: ``user:`` first (not ``host:port``), then the
    # last "@" after the blank that is followed by something like a host (hiding more
    # than the password, at worst, when the line goes on with an e-mail address).
    head = _USER_HEAD.match(text)
    if head is None or _PORT_NEXT.match(text, head.end()):
        return None
    for index in range(len(text) - 1, stop - 1, -1):
        if (
            text[index] == "@"
            and not text[index - 1].isspace()
            and _HOST_START.match(text, index + 1)
            and _valid_user(text[:index])
        ):
            return index
    return None


def _userinfo_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of each URL's user information in one line of free text."""
    starts = list(_URL_START.finditer(line))
    spans: list[tuple[int, int]] = []
    for number, match in enumerate(starts):
        end = starts[number + 1].start() if number + 1 < len(starts) else len(line)
        cut = _userinfo_end(line[match.end() : end], blanks=False)
        if cut is not None:
            spans.append((match.end(), match.end() + cut))
    return spans


def _mask_userinfo(line: str) -> str:
    pieces: list[str] = []
    position = 0
    for start, cut in _userinfo_spans(line):
        user, colon, _ = line[start:cut].partition(":")
        if not colon:
            continue
        pieces.append(line[position:start] + user + ":" + MASK)
        position = cut
    pieces.append(line[position:])
    return "".join(pieces)


def _single_url(text: str) -> SecretURL | None:
    """``text`` as one URL, when it is one (blanks allowed in its user information,
    none after it): passwords with blanks are then hidden whole."""
    stripped = text.strip()
    if "\n" in stripped or _URL_START.match(stripped) is None:
        return None
    try:
        parsed = SecretURL.parse(stripped)
    except ValueError:
        return None
    tail = parsed.host + parsed.rest
    if any(c.isspace() for c in tail):
        return None
    return parsed
