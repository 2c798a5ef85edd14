"""A local stand-in for an auth manager with per-DAG permissions (FAB, Keycloak):
SimpleAuthManager grants a role to every DAG alike, so it cannot say "this DAG only"."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

# user -> the DAGs it may read (and nothing else; no access to "all DAGs").
READABLE = {"orders_reader": {"orders_dag"}}


class ScopedAuthManager(SimpleAuthManager):
    """SimpleAuthManager, except that the users in READABLE may read only their DAGs."""

    def is_authorized_dag(self, *, method: Any, user: Any, **kwargs: Any) -> bool:
        if user.username in READABLE:
            details = kwargs.get("details")
            dag_id = getattr(details, "id", None)
            return method == "GET" and dag_id in READABLE[user.username]
        return bool(super().is_authorized_dag(method=method, user=user, **kwargs))
