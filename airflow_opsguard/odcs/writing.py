"""One of our contracts as an ODCS v3 document (``opsguard convert --to odcs``). Pure.

Column rules of severity fail without ``mostly`` become the property's own keys
(``required``, ``unique``, ``logicalTypeOptions``); the rest become ODCS library quality
rules (warnings as ``severity: warning``, ``mostly`` as a percent bound), expression and
statistic checks SQL rules, volume a ``rowCount`` rule, freshness the ``latency``
service level, the source a server (never with a password). What ODCS cannot state is
returned with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_opsguard.checks.results import to_json_value
from airflow_opsguard.odcs import sql

if TYPE_CHECKING:
    from airflow_opsguard.contract.models import Contract

API_VERSION = "v3.1.0"
CUSTOM = "opsguard."
_LOGICAL = {
    "integer": ("integer", "bigint"),
    "float": ("number", "double"),
    "decimal": ("number", "decimal"),
    "string": ("string", None),
    "boolean": ("boolean", None),
    "date": ("date", None),
    "timestamp": ("timestamp", None),
}
_SCHEMES = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}
_PORTS = {"postgres": 5432, "mysql": 3306}
_BOUNDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})


def _suffix_format(path: str) -> str | None:
    from airflow_opsguard.engines.files import FORMATS

    for suffix, name in FORMATS.items():
        if path.lower().removesuffix(".gz").removesuffix(".zst").endswith(suffix):
            return name
    return None


def contract_to_odcs(contract: Contract) -> tuple[dict[str, Any], list[str]]:
    """The ODCS document of ``contract``, and what it could not state."""
    writer = _Writer(contract)
    return writer.document(), writer.unmapped


def _duration(seconds: float) -> tuple[int | float, str]:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return int(seconds // size), unit
    return (int(seconds) if seconds == int(seconds) else seconds), "s"


class _Writer:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.unmapped: list[str] = []
        self.properties: dict[str, dict[str, Any]] = {}
        self.quality: list[dict[str, Any]] = []

    def skip(self, where: str, reason: str) -> None:
        self.unmapped.append(f"{where}: {reason}")

    def document(self) -> dict[str, Any]:
        contract = self.contract
        schema = contract.schema_
        custom: list[dict[str, Any]] = []
        if schema is not None:
            for column in schema.columns:
                entry = self._property(column.name)
                kind = _LOGICAL.get(column.type or "")
                if kind is not None:
                    entry["logicalType"] = kind[0]
                    if kind[1]:
                        entry["physicalType"] = kind[1]
            for key, value, default in (
                ("extra_columns", schema.extra_columns, "allow"),
                ("ordered", schema.ordered, False),
                ("severity", schema.severity, "fail"),
            ):
                if value != default:
                    custom.append({"property": f"{CUSTOM}{key}", "value": value})
        for index, check in enumerate(contract.all_checks):
            self._check(check, f"check {check.display_name} (#{index + 1})")
        if contract.volume is not None:
            self.quality.append(self._row_count())
        obj: dict[str, Any] = {"name": contract.dataset, "physicalType": "table"}
        if contract.description:
            obj["description"] = contract.description
        obj["properties"] = [{"name": n, **p} for n, p in self.properties.items()]
        if self.quality:
            obj["quality"] = self.quality
        if custom:
            obj["customProperties"] = custom
        doc: dict[str, Any] = {
            "apiVersion": API_VERSION,
            "kind": "DataContract",
            "id": contract.dataset,
            "name": contract.dataset,
            "version": "1.0.0",
            "status": "active",
        }
        servers = self._servers(obj)
        if servers:
            doc["servers"] = servers
        doc["schema"] = [obj]
        sla = self._freshness()
        if sla:
            doc["slaProperties"] = sla
        self._leftovers()
        return doc

    def _property(self, name: str) -> dict[str, Any]:
        return self.properties.setdefault(name, {})

    def _check(self, check: Any, where: str) -> None:
        kind = check.type
        if check.mode == "shadow":
            self.skip(where, "shadow mode has no ODCS equivalent")
            return
        plain = check.severity == "fail" and check.mostly is None and not check.name
        column = getattr(check, "column", None)
        prop = self._property(column) if isinstance(column, str) else None
        options = prop.setdefault("logicalTypeOptions", {}) if prop is not None else {}
        if prop is not None and plain and kind == "not_null" and "required" not in prop:
            prop["required"] = True
        elif prop is not None and plain and kind == "unique" and "unique" not in prop:
            prop["unique"] = True
        elif kind == "range" and plain and not _BOUNDS & set(options):
            self._bounds(options, check)
        elif kind == "length" and plain and not {"minLength", "maxLength"} & set(options):
            if check.min_length is not None:
                options["minLength"] = check.min_length
            if check.max_length is not None:
                options["maxLength"] = check.max_length
        elif kind == "pattern" and plain and "pattern" not in options:
            options["pattern"] = check.pattern
        elif kind in ("range", "length"):
            self.skip(where, "ODCS bounds (logicalTypeOptions) have no severity, mostly or name")
        else:
            rule = self._rule(check, where)
            if rule is None:
                pass
            elif prop is None or kind in ("expression", "statistic"):
                self.quality.append(rule)  # SQL rules read the whole object
            else:
                prop.setdefault("quality", []).append(rule)
        if prop is not None and not prop.get("logicalTypeOptions"):
            prop.pop("logicalTypeOptions", None)

    def _bounds(self, options: dict[str, Any], check: Any) -> None:
        # ODCS 3.1 (JSON Schema 2020 style): an exclusive bound is the bound itself.
        if check.min is not None:
            options["exclusiveMinimum" if check.strict_min else "minimum"] = to_json_value(
                check.min
            )
        if check.max is not None:
            options["exclusiveMaximum" if check.strict_max else "maximum"] = to_json_value(
                check.max
            )

    def _rule(self, check: Any, where: str) -> dict[str, Any] | None:
        kind = check.type
        rule: dict[str, Any]
        if kind == "not_null":
            rule = {"metric": "nullValues"}
        elif kind == "unique":
            rule = {"metric": "duplicateValues"}
            if check.column is None:
                rule["arguments"] = {"properties": list(check.columns)}
        elif kind == "allowed":
            rule = {"metric": "invalidValues", "arguments": {"validValues": list(check.values)}}
        elif kind == "pattern":
            rule = {"metric": "invalidValues", "arguments": {"pattern": check.pattern}}
        elif kind == "not_allowed":
            rule = {"metric": "missingValues", "arguments": {"missingValues": list(check.values)}}
        elif kind == "expression":
            rule = {"type": "sql", "query": sql.count_query(check.expression, check.if_null)}
        elif kind == "statistic":
            rule = {"type": "sql", "query": sql.aggregate_query(check.statistic, check.column)}
            rule.update(self._statistic_bounds(check))
        else:
            self.skip(where, f"ODCS has no rule for a {kind} check")
            return None
        if kind != "statistic":
            if check.mostly is None:
                rule["mustBe"] = 0
            elif kind == "expression":
                self.skip(where, "mostly on a SQL rule has no ODCS equivalent")
                return None
            else:
                rule["mustBeLessOrEqualTo"] = round((1 - check.mostly) * 100, 8)
                rule["unit"] = "percent"
        if check.severity == "warn":
            rule["severity"] = "warning"
        if check.name:
            rule["name"] = check.name
        return {**({"type": "library"} if "metric" in rule else {}), **rule}

    def _statistic_bounds(self, check: Any) -> dict[str, Any]:
        low, high = to_json_value(check.min), to_json_value(check.max)
        if low is not None and high is not None and not (check.strict_min or check.strict_max):
            return {"mustBe": low} if low == high else {"mustBeBetween": [low, high]}
        out: dict[str, Any] = {}
        if low is not None:
            out["mustBeGreaterThan" if check.strict_min else "mustBeGreaterOrEqualTo"] = low
        if high is not None:
            out["mustBeLessThan" if check.strict_max else "mustBeLessOrEqualTo"] = high
        if len(out) > 1:
            self.skip(
                f"check {check.display_name}",
                "strict bounds on both sides: ODCS takes one comparison; the lower one is written",
            )
            out = dict(list(out.items())[:1])
        return out

    def _row_count(self) -> dict[str, Any]:
        volume = self.contract.volume
        assert volume is not None
        rule: dict[str, Any] = {"type": "library", "metric": "rowCount"}
        if volume.min_rows is not None and volume.max_rows is not None:
            rule["mustBeBetween"] = [volume.min_rows, volume.max_rows]
        elif volume.min_rows is not None:
            rule["mustBeGreaterOrEqualTo"] = volume.min_rows
        else:
            rule["mustBeLessOrEqualTo"] = volume.max_rows
        if volume.severity == "warn":
            rule["severity"] = "warning"
        return rule

    def _freshness(self) -> list[dict[str, Any]]:
        freshness = self.contract.freshness
        if freshness is None:
            return []
        if freshness.warn_after is not None:
            self.skip("freshness.warn_after", "an ODCS service level has one limit (fail_after)")
        if freshness.fail_after is None:
            return []
        if freshness.severity == "warn":
            self.skip("freshness.severity", "an ODCS service level has no severity")
        value, unit = _duration(freshness.fail_after.total_seconds())
        element = f"{self.contract.dataset}.{freshness.column}"
        return [{"property": "latency", "value": value, "unit": unit, "element": element}]

    def _servers(self, obj: dict[str, Any]) -> list[dict[str, Any]]:
        import sqlalchemy as sa

        source = self.contract.source
        if source is None:
            return []
        if source.path:
            file_format = source.format or _suffix_format(source.path)
            if file_format is None:
                self.skip("source.path", "ODCS needs the file format: give source.format")
                return []
            return [
                {"server": "files", "type": "local", "path": source.path, "format": file_format}
            ]
        if source.conn_id:
            self.skip("source.conn_id", "an Airflow connection is not an ODCS server")
            return []
        if source.query:
            self.skip("source.query", "an ODCS server holds tables, not queries")
        url = sa.make_url(source.url or "")
        kind = _SCHEMES.get(url.get_backend_name())
        if kind is None:
            self.skip("source.url", f"{url.get_backend_name()} is not an ODCS server type here")
            return []
        server = {
            "server": "database",
            "type": kind,
            "host": url.host,
            "port": url.port or _PORTS[kind],
            "database": url.database,
        }
        schema_name, _, table = (source.table or "").rpartition(".")
        if kind == "postgres":  # ODCS requires it; PostgreSQL's default
            server["schema"] = schema_name or "public"
        if table and table != self.contract.dataset:
            obj["physicalName"] = table
        return [server]

    def _leftovers(self) -> None:
        contract = self.contract
        for key in ("distribution", "quarantine"):
            if getattr(contract, key, None) is not None:
                self.skip(key, "ODCS has no equivalent")
        if contract.gx_suite:
            self.skip("gx_suite", "GX suites are not ODCS rules")
        if contract.on_fail != "fail":
            self.skip("on_fail", f"{contract.on_fail}: what a gate does is not part of ODCS")
        if contract.mode != "enforce":
            self.skip("mode", "shadow mode has no ODCS equivalent")
