"""Alert fixtures: a recording webhook, a recording mail server, stores on every backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from recorders import MailRecorder, WebhookRecorder, smtp_server, webhook_server

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mariadb", marks=pytest.mark.mariadb),
]


@pytest.fixture
def hook() -> Iterator[WebhookRecorder]:
    with webhook_server() as recorder:
        yield recorder


@pytest.fixture
def mail() -> Iterator[MailRecorder]:
    with smtp_server() as recorder:
        yield recorder


@pytest.fixture
def sqlite_store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store' / 'opsguard.db'}"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A results store on each backend (the server databases are shared by the session:
    tests use a dataset name of their own)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'opsguard.db'}"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def dataset() -> str:
    return f"orders_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def down_store_url() -> str:
    """A store that does not answer (nothing listens on port 1)."""
    return "postgresql://postgres@127.0.0.1:1/nowhere"
