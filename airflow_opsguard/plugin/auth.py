"""Who may read and change what: the one module that speaks to Airflow's auth manager.

Airflow does not protect plugin routes, and ``airflow.api_fastapi.core_api.security`` is
internal API: every route of the plugin goes through the dependencies here, so an
upstream change is one edit in this file.

Rules: every route needs an authenticated Airflow user (401 without a token, 403 with a
bad one). A stored result belongs to the DAG that ran its gate (``context.dag_id``);
reading it needs read access to that DAG, changing anything it led to (an incident, a
quarantined batch) needs edit access. Results from outside Airflow (``opsguard check``)
belong to no DAG: they need access to all DAGs.

Cross-site requests: Airflow's UI keeps its token in the ``_token`` cookie, which the
browser sends by itself (SameSite=Lax in Chromium, not in every browser), so a POST
authenticated by the cookie must also carry a token only our own pages know
(:func:`csrf_token`, a signed, expiring value bound to the user) and, when the browser
says where it comes from, a same-origin ``Origin``. A request with an
``Authorization: Bearer`` header is not cross-site (no browser adds that header by
itself) and needs no token.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails
from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, HTTPException, Request, status

from airflow_opsguard.store.dashboard import Scope

Method = Literal["GET", "PUT"]
CSRF_HEADER = "X-OpsGuard-CSRF"
CSRF_FIELD = "csrf_token"
CSRF_TTL_SECONDS = 12 * 3600

# 401 without a token, 403 with an invalid one: Airflow's own answers.
CurrentUser = Annotated[BaseUser, Depends(get_user)]


def user_name(user: BaseUser) -> str:
    """The name Airflow knows the user by, for "released by" and "resolved by"."""
    return str(user.get_name())


def scope_for(
    user: BaseUser, dag_ids: Callable[[], Iterable[str]], method: Method = "GET"
) -> Scope:
    """Which DAGs' results the user may read (``GET``) or edit (``PUT``); ``dag_ids``
    lists the DAGs the store knows, asked only when the user may not see every DAG."""
    manager = get_auth_manager()
    every = bool(manager.is_authorized_dag(method=method, user=user))
    if every and not _multi_team():
        return Scope(dag_ids=None, dagless=True)
    candidates = {d for d in dag_ids() if d}
    allowed: set[str] = set()
    for team, ids in _by_team(candidates).items():
        allowed |= manager.filter_authorized_dag_ids(
            dag_ids=ids, user=user, method=method, team_name=team
        )
    return Scope(dag_ids=frozenset(allowed), dagless=every)


def may(user: BaseUser, dag_id: str | None, method: Method) -> bool:
    """Whether the user may read or edit what came from ``dag_id`` (None: no DAG)."""
    manager = get_auth_manager()
    if dag_id is None:
        return bool(manager.is_authorized_dag(method=method, user=user))
    team = _by_team({dag_id})
    team_name = next(iter(team)) if team else None
    details = DagDetails(id=dag_id, team_name=team_name)
    return bool(manager.is_authorized_dag(method=method, user=user, details=details))


def require(user: BaseUser, dag_id: str | None, method: Method) -> None:
    """Raise 403 unless the user may read or edit what came from ``dag_id``."""
    if not may(user, dag_id, method):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Forbidden")


def _multi_team() -> bool:
    from airflow.configuration import conf

    return bool(conf.getboolean("core", "multi_team", fallback=False))


def _by_team(dag_ids: set[str]) -> dict[str | None, set[str]]:
    if not dag_ids or not _multi_team():
        return {None: dag_ids} if dag_ids else {}
    from airflow.models.dag import DagModel

    teams: dict[str | None, set[str]] = {}
    mapping: dict[str, str | None] = DagModel.get_dag_id_to_team_name_mapping(list(dag_ids))
    for dag_id in dag_ids:
        teams.setdefault(mapping.get(dag_id), set()).add(dag_id)
    return teams


# -- cross-site request forgery --------------------------------------------------------


def csrf_token(user: BaseUser, now: float | None = None) -> str:
    """A token for the forms of ``user``'s pages: ``<issued>.<signature>``."""
    issued = str(int(time.time() if now is None else now))
    return f"{issued}.{_sign(user_name(user), issued)}"


def csrf_valid(user: BaseUser, token: str, now: float | None = None) -> bool:
    issued, _, signature = token.partition(".")
    if not issued.isdigit() or not signature:
        return False
    age = (time.time() if now is None else now) - int(issued)
    if not 0 <= age <= CSRF_TTL_SECONDS:
        return False
    return hmac.compare_digest(signature, _sign(user_name(user), issued))


def _sign(name: str, issued: str) -> str:
    from airflow.configuration import conf

    secret = conf.get("api", "secret_key", fallback="") or conf.get(
        "api_auth", "jwt_secret", fallback=""
    )
    if not secret:
        raise HTTPException(
            status.HTTP_500_INTERNAL_SERVER_ERROR, "[api] secret_key is not configured"
        )
    message = f"opsguard-csrf\x1f{name}\x1f{issued}".encode()
    return hmac.new(str(secret).encode(), message, hashlib.sha256).hexdigest()


async def check_csrf(request: Request, user: CurrentUser) -> BaseUser:
    """Dependency of every POST: the user, once the request is known not to be forged."""
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return user
    origin = request.headers.get("origin")
    if origin and origin != "null" and not _same_origin(origin, request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Cross-origin request refused")
    token = request.headers.get(CSRF_HEADER)
    if token is None and _is_form(request):
        form = await request.form()
        value: Any = form.get(CSRF_FIELD)
        token = value if isinstance(value, str) else None
    if not token or not csrf_valid(user, token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Missing or invalid CSRF token")
    return user


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


def _same_origin(origin: str, request: Request) -> bool:
    parts = urlsplit(origin)
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return bool(host) and parts.netloc == host


CheckedUser = Annotated[BaseUser, Depends(check_csrf)]
