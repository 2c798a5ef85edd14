"""An ODCS v3 data contract as one of our contracts.

What maps: one schema object (the dataset) and its properties (name or physicalName,
logicalType refined by physicalType, required, unique, primaryKey, enum and
logicalTypeOptions bounds, lengths and pattern; a ``classification`` other than public
or internal, or a custom property ``pii: true``, makes the column sensitive); quality
rules of the ODCS library (nullValues, missingValues, invalidValues, duplicateValues,
rowCount, with mustBe... thresholds in rows or percent), SQL rules that count
violating rows or measure a statistic (see :mod:`.sql`); the freshness (``latency``)
service level; the first server as the source. Every rule that does not map is
listed, with where it is and why, in one warning: nothing is dropped silently.
Descriptive metadata (team, support, pricing, tags, descriptions) states no rule and
is not carried.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_opsguard.contract.text import clip, short_repr
from airflow_opsguard.errors import ContractError
from airflow_opsguard.odcs import sql

if TYPE_CHECKING:
    from open_data_contract_standard.model import (
        DataQuality,
        OpenDataContractStandard,
        SchemaObject,
        SchemaProperty,
        Server,
    )

log = logging.getLogger("airflow_opsguard.odcs")

_LOGICAL = {
    "string": "string",
    "integer": "integer",
    "number": "float",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp",
}
_SERIAL = ("serial", "bigserial", "smallserial")
_WARN = frozenset({"warning", "warn", "info", "minor", "low"})
_UNITS = {
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
}
_FRESHNESS = frozenset({"latency", "freshness"})
_DATABASES = {"postgres": "postgresql", "postgresql": "postgresql", "mysql": "mysql"}
_FILES = frozenset({"local", "s3", "gcs", "azure", "sftp", "file"})
_OPERATORS = (
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
)
_LEGACY_METRICS = {
    "nullCheck": "nullValues",
    "duplicateCount": "duplicateValues",
    "validValues": "invalidValues",
}


class Unmapped(Exception):
    """A rule that our contract cannot state (the message says why)."""


def parse_odcs(data: Mapping[str, Any], origin: str) -> OpenDataContractStandard:
    """The document as the ``open-data-contract-standard`` models read it."""
    from open_data_contract_standard.model import OpenDataContractStandard
    from pydantic import ValidationError

    try:
        return OpenDataContractStandard.model_validate(dict(data))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(clip(str(p), 60) for p in first["loc"])
        raise ContractError(f"{origin}: ODCS {where}: {clip(str(first['msg']), 300)}") from None


def odcs_to_contract(
    data: Mapping[str, Any], *, origin: str = "<contract>", object_name: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Our contract (a mapping) from an ODCS v3 document, and what did not map."""
    document = parse_odcs(data, origin)
    reader = _Reader(document, _schema_object(document, origin, object_name))
    return reader.contract(), reader.unmapped


def warn_unmapped(origin: str, unmapped: list[str]) -> None:
    """One warning listing every ODCS rule that is not checked."""
    if unmapped:
        log.warning(
            "%s: %d ODCS item%s not checked by opsguard: %s",
            origin,
            len(unmapped),
            "s" if len(unmapped) > 1 else "",
            "; ".join(unmapped),
        )


def _schema_object(
    document: OpenDataContractStandard, origin: str, name: str | None
) -> SchemaObject:
    objects = document.schema_ or []
    names = [o.physicalName or o.name or f"#{i}" for i, o in enumerate(objects)]
    if name is not None:
        for obj in objects:
            if name in (obj.name, obj.physicalName):
                return obj
        raise ContractError(
            f"{origin}: no ODCS schema object {short_repr(name)}; it has {short_repr(names)}"
        )
    if len(objects) == 1:
        return objects[0]
    if not objects:
        raise ContractError(f"{origin}: the ODCS contract declares no schema object (dataset)")
    raise ContractError(
        f"{origin}: the ODCS contract declares {len(objects)} schema objects ({', '.join(names)}); "
        f"a gate checks one: opsguard convert {origin} --object NAME --to opsguard"
    )


def _threshold(rule: DataQuality) -> tuple[str, Any]:
    found = [(k, getattr(rule, k)) for k in _OPERATORS if getattr(rule, k) is not None]
    if len(found) != 1:
        raise Unmapped("give exactly one mustBe... comparison")
    return found[0]


def _tolerance(rule: DataQuality) -> float | None:
    """None when no bad row is allowed; else the ``mostly`` a percent bound stands for."""
    operator, value = _threshold(rule)
    percent = (rule.unit or "rows").lower() in ("percent", "%")
    zero = (operator == "mustBe" and value == 0) or (
        operator == "mustBeLessOrEqualTo" and value == 0
    )
    if not percent and operator == "mustBeLessThan" and value == 1:
        zero = True
    if zero:
        return None
    if percent and operator == "mustBeLessOrEqualTo" and 0 < float(value) < 100:
        return round(1 - float(value) / 100, 10)
    raise Unmapped(
        f"{operator} {value} {rule.unit or 'rows'}: only no bad rows, or at most a percent "
        "of them (mustBeLessOrEqualTo with unit percent), maps"
    )


def _bounds(rule: DataQuality, low: str, high: str, *, strict: bool) -> dict[str, Any]:
    operator, value = _threshold(rule)
    if operator == "mustBe":
        return {low: value, high: value}
    if operator == "mustBeGreaterOrEqualTo":
        return {low: value}
    if operator == "mustBeLessOrEqualTo":
        return {high: value}
    if operator == "mustBeBetween":
        return {low: value[0], high: value[1]}
    if operator in ("mustBeGreaterThan", "mustBeLessThan") and strict:
        key, flag = (low, "strict_min") if operator == "mustBeGreaterThan" else (high, "strict_max")
        return {key: value, flag: True}
    if operator == "mustBeGreaterThan" and isinstance(value, int):
        return {low: value + 1}
    if operator == "mustBeLessThan" and isinstance(value, int):
        return {high: value - 1}
    raise Unmapped(f"{operator} {value} has no equivalent bound")


# ODCS classifications that let a column's values be shown; any other (confidential,
# restricted, pii, ...) marks the column sensitive: a wrong guess only hides samples.
_OPEN_CLASSIFICATIONS = frozenset({"", "public", "internal", "unclassified", "none"})


def _sensitive(prop: SchemaProperty) -> bool:
    """Whether an ODCS property is personal or secret data: its ``classification`` is
    not public, or a custom property ``pii`` (ODCS v2's marker) is true."""
    classification = (prop.classification or "").strip().lower()
    if classification not in _OPEN_CLASSIFICATIONS:
        return True
    for custom in prop.customProperties or []:
        if (custom.property or "").lower() == "pii":
            value = custom.value
            return value is True or str(value).strip().lower() in ("true", "yes", "1")
    return False


class _Reader:
    def __init__(self, document: OpenDataContractStandard, obj: SchemaObject) -> None:
        self.document = document
        self.obj = obj
        self.unmapped: list[str] = []
        self.dataset = obj.name or obj.physicalName or document.name or document.id or "dataset"
        self.table = obj.physicalName or self.dataset
        self.names = {n for n in (obj.name, obj.physicalName, self.dataset) if n}
        self.columns: list[dict[str, Any]] = []
        self.checks: list[dict[str, Any]] = []
        self.volume: dict[str, Any] | None = None
        self.logical_names: dict[str, str] = {}

    def skip(self, where: str, reason: str) -> None:
        self.unmapped.append(f"{where}: {reason}")

    def contract(self) -> dict[str, Any]:
        where = f"schema[{self.obj.name or self.dataset}]"
        keys = []
        for index, prop in enumerate(self.obj.properties or []):
            self._property(prop, f"{where}.properties[{prop.name or index}]")
            if prop.primaryKey:
                keys.append((prop.primaryKeyPosition or 0, index, self._column_name(prop)))
        if len(keys) > 1:  # a composite key: unique together, each column required
            self.checks.append({"type": "unique", "columns": [k[2] for k in sorted(keys)]})
        for index, rule in enumerate(self.obj.quality or []):
            self._rule(rule, f"{where}.quality[{index}]", None)
        if self.obj.relationships:
            self.skip(f"{where}.relationships", "relationships are not checked")
        out: dict[str, Any] = {"dataset": self.dataset}
        description = self.obj.description or (
            self.document.description.purpose if self.document.description else None
        )
        if description:
            out["description"] = description
        source = self._source()
        if source:
            out["source"] = source
        if self.columns:
            out["schema"] = {"columns": self.columns, **self._schema_options(where)}
        freshness = self._freshness()
        if freshness:
            out["freshness"] = freshness
        if self.volume:
            out["volume"] = self.volume
        if self.checks:
            out["checks"] = self.checks
        return out

    def _schema_options(self, where: str) -> dict[str, Any]:
        """ODCS does not say whether other columns may appear: they may, unless the
        object's customProperties (as ``opsguard convert --to odcs`` writes them) say."""
        options: dict[str, Any] = {"extra_columns": "allow"}
        for custom in self.obj.customProperties or []:
            key = (custom.property or "").removeprefix("opsguard.")
            if (
                custom.property
                and custom.property.startswith("opsguard.")
                and key
                in (
                    "extra_columns",
                    "ordered",
                    "severity",
                )
            ):
                options[key] = custom.value
            elif custom.property and custom.property.startswith("opsguard."):
                self.skip(f"{where}.customProperties.{custom.property}", "unknown to opsguard")
        return options

    # ------------------------------------------------------------------ properties

    def _column_name(self, prop: SchemaProperty) -> str:
        return prop.physicalName or prop.name or ""

    def _property(self, prop: SchemaProperty, where: str) -> None:
        name = self._column_name(prop)
        if not name:
            self.skip(where, "a property without a name")
            return
        if prop.name:
            self.logical_names[prop.name] = name
        column: dict[str, Any] = {"name": name}
        kind = self._type(prop, where)
        if kind:
            column["type"] = kind
        single_key = (
            prop.primaryKey and sum(bool(p.primaryKey) for p in self.obj.properties or []) == 1
        )
        if prop.required or prop.primaryKey:
            column["nullable"] = False
        if prop.unique or single_key:
            column["unique"] = True
        if prop.enum:
            column["allowed"] = [v.value for v in prop.enum if v.value is not None]
        if _sensitive(prop):
            column["sensitive"] = True
        self._options(prop, column, where)
        if prop.properties or prop.items or prop.map:
            self.skip(where, "nested properties are not checked")
        self.columns.append(self._valid_column(column, where))
        for index, rule in enumerate(prop.quality or []):
            self._rule(rule, f"{where}.quality[{index}]", name)

    def _type(self, prop: SchemaProperty, where: str) -> str | None:
        from airflow_opsguard.gx.mapping import column_type_of

        logical = (prop.logicalType or "").lower()
        physical = (prop.physicalType or "").lower()
        by_physical = "integer" if physical.startswith(_SERIAL) else column_type_of(physical)
        if logical in ("number", "integer"):
            if by_physical in ("integer", "float", "decimal"):
                return by_physical
            return _LOGICAL[logical]
        if logical == "date":
            if physical == "time" or physical.startswith("time "):
                self.skip(
                    where,
                    f"logicalType date with physicalType {prop.physicalType}: "
                    "a time of day has no column type here",
                )
                return None
            return "timestamp" if by_physical == "timestamp" else "date"
        if logical in _LOGICAL:
            return _LOGICAL[logical]
        if logical:
            self.skip(where, f"logicalType {prop.logicalType} has no column type here")
            return None
        return by_physical

    def _options(self, prop: SchemaProperty, column: dict[str, Any], where: str) -> None:
        options = dict(prop.logicalTypeOptions or {})
        for ours, theirs in (("min", "minimum"), ("max", "maximum")):
            if theirs in options:
                column[ours] = options.pop(theirs)
        for ours, theirs, bound in (
            ("strict_min", "exclusiveMinimum", "min"),
            ("strict_max", "exclusiveMaximum", "max"),
        ):
            value = options.pop(theirs, None)
            if isinstance(value, bool):
                column[ours] = value
            elif value is not None:  # JSON Schema 2020 style: the exclusive bound itself
                column[bound], column[ours] = value, True
        for ours, theirs in (("min_length", "minLength"), ("max_length", "maxLength")):
            if theirs in options:
                column[ours] = options.pop(theirs)
        if "pattern" in options:
            column["pattern"] = options.pop("pattern")
        for key, value in options.items():
            self.skip(f"{where}.logicalTypeOptions.{key}", f"{short_repr(value)} is not checked")

    def _valid_column(self, column: dict[str, Any], where: str) -> dict[str, Any]:
        from pydantic import ValidationError

        from airflow_opsguard.contract.models import Column

        try:
            Column.model_validate(column)
        except ValidationError as exc:
            message = exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
            rules = (
                "min",
                "max",
                "strict_min",
                "strict_max",
                "min_length",
                "max_length",
                "pattern",
                "allowed",
            )
            dropped = {k: column.pop(k) for k in rules if k in column}
            self.skip(where, f"{dropped} not checked: {message}")
        return column

    # ------------------------------------------------------------------ quality

    def _rule(self, rule: DataQuality, where: str, column: str | None) -> None:
        try:
            checks = self._checks(rule, column)
        except Unmapped as exc:
            self.skip(f"{where} ({self._kind(rule)})", str(exc))
            return
        severity = (rule.severity or "").lower()
        for check in checks:
            if severity in _WARN:
                check["severity"] = "warn"
            if rule.name and len(checks) == 1:
                check["name"] = rule.name
            if not self._valid_check(check, where, rule):
                return
        self.checks.extend(checks)

    def _valid_check(self, check: dict[str, Any], where: str, rule: DataQuality) -> bool:
        from airflow_opsguard.contract.loader import parse_contract

        try:
            parse_contract({"dataset": "x", "checks": [check]}, origin=where)
        except ContractError as exc:
            self.skip(f"{where} ({self._kind(rule)})", str(exc).removeprefix(f"{where}: "))
            return False
        return True

    def _kind(self, rule: DataQuality) -> str:
        return rule.metric or rule.rule or rule.type or "library"

    def _checks(self, rule: DataQuality, column: str | None) -> list[dict[str, Any]]:
        kind = (rule.type or "library").lower()
        if kind == "text":
            raise Unmapped("a text rule describes the data; it states nothing to check")
        if kind == "custom":
            raise Unmapped(f"a custom rule for {rule.engine or 'another engine'} is not run here")
        if kind == "sql":
            return self._sql(rule, column)
        metric = rule.metric or rule.rule or ""
        metric = _LEGACY_METRICS.get(metric, metric)
        arguments = dict(rule.arguments or {})
        if metric == "rowCount":
            if column is not None:
                raise Unmapped("rowCount belongs on the schema object, not on a property")
            if self.volume is not None:
                raise Unmapped("a second rowCount rule (the contract has one volume)")
            self.volume = _bounds(rule, "min_rows", "max_rows", strict=False)
            if (rule.severity or "").lower() in _WARN:
                self.volume["severity"] = "warn"
            return []
        if metric == "duplicateValues":
            mostly = self._mostly(rule)
            columns = arguments.get("properties")
            if column is not None:
                return [{"type": "unique", "column": column, **mostly}]
            if isinstance(columns, list) and columns:
                names = [self.logical_names.get(str(c), str(c)) for c in columns]
                return [{"type": "unique", "columns": names, **mostly}]
            raise Unmapped("duplicateValues on the schema object needs arguments.properties")
        if column is None:
            raise Unmapped(f"{metric or 'a library rule'} on the schema object names no property")
        if metric == "nullValues":
            return [{"type": "not_null", "column": column, **self._mostly(rule)}]
        if metric == "missingValues":
            listed = arguments.get("missingValues", [None])
            if not isinstance(listed, list):
                raise Unmapped("arguments.missingValues must be a list")
            mostly = self._mostly(rule)
            out: list[dict[str, Any]] = []
            if None in listed:
                out.append({"type": "not_null", "column": column, **mostly})
            values = [v for v in listed if v is not None]
            if values:
                out.append({"type": "not_allowed", "column": column, "values": values, **mostly})
            return out
        if metric == "invalidValues":
            mostly = self._mostly(rule)
            out = []
            if isinstance(arguments.get("validValues"), list):
                values = [v for v in arguments["validValues"] if v is not None]
                out.append({"type": "allowed", "column": column, "values": values, **mostly})
            if isinstance(arguments.get("pattern"), str):
                out.append(
                    {"type": "pattern", "column": column, "pattern": arguments["pattern"], **mostly}
                )
            if not out:
                raise Unmapped("invalidValues needs arguments.validValues or arguments.pattern")
            return out
        raise Unmapped(f"the library metric {metric or '(none)'} has no check here")

    def _mostly(self, rule: DataQuality) -> dict[str, Any]:
        mostly = _tolerance(rule)
        return {} if mostly is None else {"mostly": mostly}

    def _sql(self, rule: DataQuality, column: str | None) -> list[dict[str, Any]]:
        query = rule.query or ""
        condition = sql.row_condition(query, self.names, column)
        if condition is not None:
            if _tolerance(rule) is not None:
                raise Unmapped("a SQL count that may be above 0 is not a row condition")
            return [
                {
                    "type": "expression",
                    "expression": condition.expression,
                    "if_null": condition.if_null,
                }
            ]
        measured = sql.aggregate(query, self.names, column)
        if measured is not None:
            bounds = _bounds(rule, "min", "max", strict=measured.statistic != "distinct_count")
            name = self.logical_names.get(measured.column, measured.column)
            return [
                {"type": "statistic", "column": name, "statistic": measured.statistic, **bounds}
            ]
        raise Unmapped(
            "only SELECT COUNT(*) FROM ${object} WHERE <violation> (mustBe 0) and "
            "SELECT MIN|MAX|AVG|SUM(col) or COUNT(DISTINCT col) FROM ${object} map"
        )

    # ------------------------------------------------------------------ SLA and servers

    def _freshness(self) -> dict[str, Any] | None:
        found: dict[str, Any] | None = None
        default = self.document.slaDefaultElement
        for index, sla in enumerate(self.document.slaProperties or []):
            where = f"slaProperties[{index}] ({sla.property})"
            if (sla.property or "").lower() not in _FRESHNESS:
                self.skip(where, "this service level is not checked")
                continue
            if found is not None:
                self.skip(where, "a second freshness service level")
                continue
            unit = _UNITS.get((sla.unit or "").lower())
            if (
                unit is None
                or not isinstance(sla.value, int | float)
                or isinstance(sla.value, bool)
            ):
                self.skip(
                    where,
                    f"value {short_repr(sla.value)} {clip(sla.unit or '')}: give a number of "
                    "d, h, m or s",
                )
                continue
            element = sla.element or default
            column = self._element_column(element)
            if column is None:
                self.skip(where, f"element {short_repr(element)} is not a column of {self.dataset}")
                continue
            found = {"column": column, "fail_after": f"{sla.value:g}{unit}"}
        return found

    def _element_column(self, element: str | None) -> str | None:
        if not element or "," in element:
            return None
        table, dot, name = element.rpartition(".")
        if dot and table.split(".")[-1] not in self.names:
            return None
        name = self.logical_names.get(name, name)
        return name if any(c["name"] == name for c in self.columns) else None

    def _source(self) -> dict[str, Any] | None:
        chosen: dict[str, Any] | None = None
        for index, server in enumerate(self.document.servers or []):
            where = f"servers[{index}] ({server.server or server.type})"
            source = self._server(server)
            if source is None:
                self.skip(where, f"server type {short_repr(server.type)} is not a source here")
            elif chosen is not None:
                self.skip(
                    where, "only the first server is the contract's source (--data overrides it)"
                )
            else:
                chosen = source
        return chosen

    def _server(self, server: Server) -> dict[str, Any] | None:
        import sqlalchemy as sa

        kind = (server.type or "").lower()
        if kind in _DATABASES and server.host and server.database:
            port = int(server.port) if server.port not in (None, "") else None
            url = sa.URL.create(
                _DATABASES[kind], host=server.host, port=port, database=server.database
            )
            table = self.table if not server.schema_ else f"{server.schema_}.{self.table}"
            return {"url": url.render_as_string(hide_password=False), "table": table}
        location = server.path or server.location
        if kind in _FILES and location:
            source: dict[str, Any] = {"path": location}
            if (server.format or "").lower() in ("parquet", "csv", "jsonl", "json"):
                source["format"] = server.format.lower() if server.format else None
            return source
        return None
