"""Reading a dbt ``target/manifest.json`` with plain :mod:`json` (dbt is not needed).

Only what ``opsguard import-dbt`` maps is read: models and sources (their relation,
columns, data types, constraints, model contract and source freshness) and the data
tests attached to them. Manifest schemas v10 to v12 are supported (dbt 1.6 to 1.10,
which the later 1.x releases still write). A key that is missing or of the wrong kind
is a :class:`ManifestError` naming the file and the key.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from airflow_opsguard.contract.text import short_repr
from airflow_opsguard.errors import OpsGuardError

SUPPORTED_VERSIONS = range(10, 13)
_VERSION = re.compile(r"/manifest/v(\d+)\.json$")


class ManifestError(OpsGuardError, ValueError):
    """A dbt manifest that cannot be read: the message names the file and the key."""


@dataclass(frozen=True)
class Column:
    """A column dbt declares for a model or source."""

    name: str
    data_type: str | None
    constraints: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class Relation:
    """A model or a source table: what becomes one contract."""

    unique_id: str
    kind: str  # "model" or "source" ("seed" and "snapshot": what a test may refer to)
    name: str  # the model's name (with _v<version>), or "<source>.<table>"
    package: str
    database: str | None
    schema: str
    identifier: str
    relation_name: str | None
    path: str
    materialized: str | None
    enforced: bool
    columns: tuple[Column, ...]
    constraints: tuple[Mapping[str, Any], ...]
    freshness: Mapping[str, Any] | None
    loaded_at_field: str | None

    table: str  # as a contract's source.table names it (see table_name)


@dataclass(frozen=True)
class DataTest:
    """A dbt data test: generic (``test_name`` set) or singular."""

    unique_id: str
    name: str
    test_name: str | None
    namespace: str | None
    kwargs: Mapping[str, Any]
    column_name: str | None
    attached_node: str | None
    depends_on: tuple[str, ...]
    config: Mapping[str, Any]


@dataclass(frozen=True)
class Manifest:
    """The parts of a dbt manifest that contracts are made of."""

    path: str
    version: int
    dbt_version: str
    adapter: str
    project: str | None
    relations: Mapping[str, Relation]
    tests: tuple[DataTest, ...]

    def table_name(self, database: str | None, schema: str, identifier: str) -> str:
        """A relation of this manifest's adapter as a contract names it."""
        return table_name(self.adapter, database, schema, identifier)


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Read ``path`` (a dbt ``manifest.json``); raise :class:`ManifestError` naming the
    file and key when it is not one, or of an unsupported schema version."""
    where = os.fspath(path)
    try:
        with open(where, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise ManifestError(
            f"{where}: no such file (dbt writes target/manifest.json on `dbt parse`)"
        ) from None
    except OSError as exc:
        raise ManifestError(f"{where}: cannot read it: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{where}: not a JSON document: {exc}") from None
    reader = _Reader(where)
    top = reader.mapping(data, "the document")
    metadata = reader.mapping(reader.key(top, "metadata", ""), "metadata")
    reader.adapter = str(metadata.get("adapter_type") or "")
    version = _schema_version(reader, metadata)
    relations: dict[str, Relation] = {}
    tests: list[DataTest] = []
    nodes = reader.mapping(reader.key(top, "nodes", ""), "nodes")
    for unique_id in sorted(nodes):
        node = reader.mapping(nodes[unique_id], f"nodes[{unique_id!r}]")
        kind = reader.text(node, "resource_type", f"nodes[{unique_id!r}]")
        if kind in ("model", "seed", "snapshot"):  # seeds and snapshots: to be referred to
            relations[unique_id] = _model(reader, unique_id, node, kind)
        elif kind == "test":
            tests.append(_test(reader, unique_id, node))
    sources = reader.mapping(reader.key(top, "sources", ""), "sources")
    for unique_id in sorted(sources):
        source = reader.mapping(sources[unique_id], f"sources[{unique_id!r}]")
        relations[unique_id] = _source(reader, unique_id, source)
    project = metadata.get("project_name")
    return Manifest(
        path=where,
        version=version,
        dbt_version=str(metadata.get("dbt_version") or "unknown"),
        adapter=reader.adapter,
        project=project if isinstance(project, str) else None,
        relations=relations,
        tests=tuple(tests),
    )


def _schema_version(reader: _Reader, metadata: Mapping[str, Any]) -> int:
    url = reader.text(metadata, "dbt_schema_version", "metadata")
    found = _VERSION.search(url)
    if found is None:
        reader.fail(f"metadata.dbt_schema_version: {short_repr(url)} is not a dbt manifest schema")
    version = int(found.group(1))
    if version not in SUPPORTED_VERSIONS:
        reader.fail(
            f"metadata.dbt_schema_version: manifest v{version} is not supported; "
            f"v{SUPPORTED_VERSIONS[0]} to v{SUPPORTED_VERSIONS[-1]} are (dbt 1.6 to 1.10 and "
            "the releases that still write v12)"
        )
    return version


def _model(reader: _Reader, unique_id: str, node: Mapping[str, Any], kind: str) -> Relation:
    where = f"nodes[{unique_id!r}]"
    config = reader.mapping(node.get("config") or {}, f"{where}.config")
    contract = reader.mapping(node.get("contract") or {}, f"{where}.contract")
    name = reader.text(node, "name", where)
    version = node.get("version")
    database = reader.optional_text(node, "database", where)
    schema = reader.text(node, "schema", where)
    identifier = reader.optional_text(node, "alias", where) or name
    return Relation(
        unique_id=unique_id,
        kind=kind,
        name=f"{name}_v{version}" if version not in (None, "") else name,
        package=reader.text(node, "package_name", where),
        database=database,
        schema=schema,
        identifier=identifier,
        table=reader.table_name(database, schema, identifier),
        relation_name=reader.optional_text(node, "relation_name", where),
        path=reader.optional_text(node, "original_file_path", where) or "",
        materialized=reader.optional_text(config, "materialized", f"{where}.config"),
        enforced=contract.get("enforced") is True,
        columns=_columns(reader, node, where),
        constraints=_constraints(reader, node.get("constraints"), f"{where}.constraints"),
        freshness=None,
        loaded_at_field=None,
    )


def _source(reader: _Reader, unique_id: str, node: Mapping[str, Any]) -> Relation:
    where = f"sources[{unique_id!r}]"
    config = reader.mapping(node.get("config") or {}, f"{where}.config")
    name = reader.text(node, "name", where)
    # dbt 1.10 also keeps freshness in config; both say the same when both are there.
    freshness = node.get("freshness", config.get("freshness"))
    loaded_at = node.get("loaded_at_field") or config.get("loaded_at_field")
    database = reader.optional_text(node, "database", where)
    schema = reader.text(node, "schema", where)
    identifier = reader.optional_text(node, "identifier", where) or name
    return Relation(
        unique_id=unique_id,
        kind="source",
        name=f"{reader.text(node, 'source_name', where)}.{name}",
        package=reader.text(node, "package_name", where),
        database=database,
        schema=schema,
        identifier=identifier,
        table=reader.table_name(database, schema, identifier),
        relation_name=reader.optional_text(node, "relation_name", where),
        path=reader.optional_text(node, "original_file_path", where) or "",
        materialized=None,
        enforced=False,
        columns=_columns(reader, node, where),
        constraints=(),
        freshness=reader.mapping(freshness, f"{where}.freshness") if freshness else None,
        loaded_at_field=loaded_at if isinstance(loaded_at, str) and loaded_at else None,
    )


def _columns(reader: _Reader, node: Mapping[str, Any], where: str) -> tuple[Column, ...]:
    columns = reader.mapping(node.get("columns") or {}, f"{where}.columns")
    found = []
    for key, value in columns.items():
        at = f"{where}.columns[{key!r}]"
        column = reader.mapping(value, at)
        found.append(
            Column(
                name=reader.optional_text(column, "name", at) or key,
                data_type=reader.optional_text(column, "data_type", at),
                constraints=_constraints(reader, column.get("constraints"), f"{at}.constraints"),
            )
        )
    return tuple(found)


def _constraints(reader: _Reader, value: Any, where: str) -> tuple[Mapping[str, Any], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        reader.fail(f"{where}: expected a list, found {type(value).__name__}")
    found = []
    for index, item in enumerate(value):
        constraint = reader.mapping(item, f"{where}[{index}]")
        reader.text(constraint, "type", f"{where}[{index}]")
        found.append(constraint)
    return tuple(found)


def _test(reader: _Reader, unique_id: str, node: Mapping[str, Any]) -> DataTest:
    where = f"nodes[{unique_id!r}]"
    metadata = node.get("test_metadata")
    depends = reader.mapping(node.get("depends_on") or {}, f"{where}.depends_on")
    nodes = depends.get("nodes") or []
    if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
        reader.fail(f"{where}.depends_on.nodes: expected a list of node ids")
    config = reader.mapping(node.get("config") or {}, f"{where}.config")
    test_name: str | None = None
    namespace: str | None = None
    kwargs: Mapping[str, Any] = {}
    if metadata is not None:
        at = f"{where}.test_metadata"
        metadata = reader.mapping(metadata, at)
        test_name = reader.text(metadata, "name", at)
        namespace = reader.optional_text(metadata, "namespace", at)
        kwargs = reader.mapping(metadata.get("kwargs") or {}, f"{at}.kwargs")
    return DataTest(
        unique_id=unique_id,
        name=reader.text(node, "name", where),
        test_name=test_name,
        namespace=namespace,
        kwargs=kwargs,
        column_name=reader.optional_text(node, "column_name", where),
        attached_node=reader.optional_text(node, "attached_node", where),
        depends_on=tuple(nodes),
        config=config,
    )


def table_name(adapter: str, database: str | None, schema: str, identifier: str) -> str:
    """A relation as a contract's ``source.table`` names it: ``schema.identifier``, and
    ``database.schema.identifier`` on DuckDB, whose SQLAlchemy dialect names each schema
    with its catalogue (``shop.main``). The database itself is the connection's."""
    if adapter == "duckdb" and database:
        return f"{database}.{schema}.{identifier}"
    return f"{schema}.{identifier}"


class _Reader:
    """Typed access to the manifest's keys; every mistake names the file and the key."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.adapter = ""

    def table_name(self, database: str | None, schema: str, identifier: str) -> str:
        return table_name(self.adapter, database, schema, identifier)

    def fail(self, message: str) -> NoReturn:
        raise ManifestError(f"{self.path}: {message}")

    def key(self, data: Mapping[str, Any], key: str, where: str) -> Any:
        if key not in data:
            self.fail(f"{where + '.' if where else ''}{key}: missing (is this a dbt manifest?)")
        return data[key]

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            self.fail(f"{where}: expected a JSON object, found {_kind(value)}")
        return value

    def text(self, data: Mapping[str, Any], key: str, where: str) -> str:
        value = self.key(data, key, where)
        if not isinstance(value, str) or not value:
            self.fail(f"{where}.{key}: expected text, found {_kind(value)}")
        return value

    def optional_text(self, data: Mapping[str, Any], key: str, where: str) -> str | None:
        value = data.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.fail(f"{where}.{key}: expected text, found {_kind(value)}")
        return value


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false"}
    if value is None:
        return "null"
    if isinstance(value, str) and not value:
        return "empty text"
    return names.get(type(value), type(value).__name__)
