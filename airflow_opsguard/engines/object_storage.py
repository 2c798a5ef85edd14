"""Object storage read with a filesystem of its own: one set of credentials per source.

DuckDB reads an fsspec URL through the filesystem registered for the URL's protocol, and
keeps one per protocol for the whole database: two sources on ``s3://`` with different
credentials (two Airflow connections) would read through whichever was registered first.
So a filesystem handed in with a source (an Airflow connection's, an
``ObjectStoragePath``'s) is registered under a protocol of its own, named after the
filesystem's identity (its class and the arguments it was made with, which include the
credentials: equal filesystems share one name), and its files are read by that name.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, ClassVar

PREFIX = "opsguardfs"  # DuckDB routes a path to a filesystem by the text before "://"


def scoped_protocol(filesystem: Any) -> str:
    """The protocol that DuckDB reads ``filesystem``'s files by."""
    token = (
        getattr(filesystem, "_fs_token", None) or f"{type(filesystem).__qualname__}{id(filesystem)}"
    )
    return PREFIX + hashlib.sha256(str(token).encode()).hexdigest()[:16]


def scoped_path(path: str, protocol: str) -> str:
    """``s3://bucket/key`` as DuckDB reads it through the scoped filesystem."""
    return f"{protocol}://{path.partition('://')[2] if '://' in path else path}"


def unscoped_text(text: str, protocol: str, original: str) -> str:
    """A DuckDB message that names scoped paths, with the URL's own protocol again."""
    return text.replace(f"{protocol}://", f"{original}://")


_lock = threading.Lock()
_classes: dict[str, type] = {}


def scoped_filesystem(filesystem: Any) -> Any:
    """``filesystem`` behind the protocol of :func:`scoped_protocol`, for DuckDB."""
    protocol = scoped_protocol(filesystem)
    with _lock:
        kind = _classes.get(protocol)
        if kind is None:
            kind = _classes[protocol] = _scoped_class(protocol)
    return kind(filesystem)


def _scoped_class(protocol: str) -> type:
    from fsspec import AbstractFileSystem

    class Scoped(AbstractFileSystem):  # type: ignore[misc]
        """Another filesystem under a protocol of its own: paths lose the protocol and
        go to it as they are; what it lists comes back without one."""

        cachable = False  # each wraps the filesystem it is given
        name: ClassVar[str] = protocol

        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        @classmethod
        def _strip_protocol(cls, path: Any) -> Any:
            if isinstance(path, list):
                return [cls._strip_protocol(p) for p in path]
            text = str(path)
            return text[len(protocol) + 3 :] if text.startswith(f"{protocol}://") else text

        def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
            kwargs.pop("autocommit", None)
            return self.inner.open(path, mode, **kwargs)

        def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
            return self.inner.ls(self._strip_protocol(path), detail=detail, **kwargs)

        def info(self, path: str, **kwargs: Any) -> Any:
            return self.inner.info(self._strip_protocol(path), **kwargs)

        def modified(self, path: str) -> Any:
            return self.inner.modified(self._strip_protocol(path))

        def created(self, path: str) -> Any:
            return self.inner.created(self._strip_protocol(path))

    Scoped.protocol = (protocol,)
    Scoped.__name__ = Scoped.__qualname__ = f"Scoped_{protocol}"
    return Scoped
