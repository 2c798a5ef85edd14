"""A GX suite's expectations as one contract (``opsguard import-gx``): each expectation
mapped onto a contract fragment (:mod:`.mapping`), the fragments collected into column
shorthand and explicit checks, and what does not map listed with the reason. Pure: GX
is not imported."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_opsguard.gx.mapping import (
    META_KEY,
    Fragment,
    Skipped,
    Unmappable,
    expectation_fragment,
    is_warning,
)


def _ours(expectation: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = expectation.get("meta") or {}
    found = meta.get(META_KEY) if isinstance(meta, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def import_fragment(expectation: Mapping[str, Any]) -> Fragment:
    """The fragment of one suite expectation (``{"type", "kwargs", "meta", "severity"}``),
    with its severity and what the expectation's ``meta.opsguard`` keeps."""
    fragment = expectation_fragment(
        str(expectation.get("type")), dict(expectation.get("kwargs") or {})
    )
    warn = is_warning(expectation)
    ours = _ours(expectation)
    part = fragment.contract
    if "checks" in part:
        check = part["checks"][0]
        if warn:
            check["severity"] = "warn"
        if ours.get("name"):
            check["name"] = str(ours["name"])
    elif "volume" in part and warn:
        part["volume"]["severity"] = "warn"
    elif "schema" in part:
        if warn:
            part["schema"]["severity"] = "warn"
        if ours.get("type") and len(part["schema"]["columns"]) == 1:
            part["schema"]["columns"][0].setdefault("type", ours["type"])
    return fragment


# Column shorthand keys that each check type folds into (see Column.implied_checks).
_SHORTHAND: dict[str, tuple[str, ...]] = {
    "not_null": ("nullable",),
    "unique": ("unique",),
    "range": ("min", "max", "strict_min", "strict_max"),
    "allowed": ("allowed",),
    "not_allowed": ("not_allowed",),
    "pattern": ("pattern",),
    "length": ("min_length", "max_length"),
}


class ContractBuilder:
    """Collects fragments into one contract mapping: column shorthand where a check
    fits a column's shorthand, explicit checks otherwise."""

    def __init__(self, dataset: str, *, fold: bool = True) -> None:
        self.dataset = dataset
        self.columns: dict[str, dict[str, Any]] = {}
        self.extra_columns = "allow"
        self.ordered = False
        self.schema_severity: str | None = None
        self.volume: dict[str, Any] | None = None
        self.checks: list[dict[str, Any]] = []
        # Per column: the (severity, mostly) its shorthand stands for, once set.
        self._column_terms: dict[str, tuple[str, Any]] = {}
        self._set_severity: str | None = None
        self.fold = fold

    def add(self, fragment: Fragment) -> None:
        """Add one fragment; raises :class:`Unmappable` when it conflicts."""
        part = fragment.contract
        if "volume" in part:
            if self.volume is not None:
                raise Unmappable("a second row count expectation (the contract has one volume)")
            self.volume = dict(part["volume"])
        elif "schema" in part:
            self._add_schema(part["schema"])
        else:
            for check in part["checks"]:
                self._add_check(dict(check))

    def _add_schema(self, schema: Mapping[str, Any]) -> None:
        severity = schema.get("severity", "fail")
        if schema.get("extra_columns") == "fail" and not schema.get("ordered"):
            # An exact column set states the extra columns' severity (warn or fail); the
            # declared columns keep the severity their own expectations give them.
            if severity == "warn" and self.extra_columns != "fail":
                self.extra_columns = "warn"
            else:
                self.extra_columns = "fail"
            self._set_severity = severity
            self._add_columns(schema["columns"])
            return
        if self.schema_severity is not None and severity != self.schema_severity:
            raise Unmappable(
                f"severity {severity} differs from the suite's other schema expectations "
                f"({self.schema_severity}); the contract's schema has one severity"
            )
        self.schema_severity = severity
        self._add_columns(schema["columns"])
        if schema.get("extra_columns") == "fail":
            self.extra_columns = "fail"
        if schema.get("ordered"):
            self.ordered = True

    def _add_columns(self, columns: list[Mapping[str, Any]]) -> None:
        for column in columns:
            name = column["name"]
            known = self.columns.setdefault(name, {"name": name})
            if column.get("type") is not None:
                if known.get("type") not in (None, column["type"]):
                    raise Unmappable(f"column {name!r} is typed {known['type']} already")
                known["type"] = column["type"]

    def _add_check(self, check: dict[str, Any]) -> None:
        column = check.get("column")
        kind = check["type"]
        keys = _SHORTHAND.get(kind)
        if isinstance(column, str):
            target = self.columns.setdefault(column, {"name": column})
            terms = (check.get("severity", "fail"), check.get("mostly"))
            foldable = (
                self.fold
                and keys is not None
                and "name" not in check
                and not any(k in target for k in keys)
                and self._column_terms.get(column, terms) == terms
            )
            if foldable:
                self._column_terms[column] = terms
                self._fold(target, check)
                return
        elif isinstance(check.get("columns"), list):
            for name in check["columns"]:
                self.columns.setdefault(name, {"name": name})
        self.checks.append(check)

    def _fold(self, target: dict[str, Any], check: Mapping[str, Any]) -> None:
        kind = check["type"]
        if kind == "not_null":
            target["nullable"] = False
        elif kind == "unique":
            target["unique"] = True
        elif kind == "allowed":
            target["allowed"] = check.get("values")
        elif kind == "not_allowed":
            target["not_allowed"] = check.get("values")
        elif kind == "pattern":
            target["pattern"] = check.get("pattern")
        else:
            names = _SHORTHAND[kind]
            for key in names:
                if key in check:
                    target[key] = check[key]
        if check.get("severity", "fail") != "fail":
            target["severity"] = check["severity"]
        if check.get("mostly") is not None:
            target["mostly"] = check["mostly"]

    def contract(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dataset": self.dataset}
        if self.columns:
            schema: dict[str, Any] = {
                "columns": list(self.columns.values()),
                "extra_columns": self.extra_columns,
            }
            if self.ordered:
                schema["ordered"] = True
            severity = self.schema_severity or self._set_severity
            if severity not in (None, "fail"):
                schema["severity"] = severity
                if schema["extra_columns"] == "warn":
                    schema["extra_columns"] = "fail"  # the same: every schema rule warns
            out["schema"] = schema
        if self.volume is not None:
            out["volume"] = self.volume
        if self.checks:
            out["checks"] = self.checks
        return out


def suite_to_contract(
    expectations: list[Mapping[str, Any]], dataset: str
) -> tuple[dict[str, Any], list[Skipped]]:
    """A contract mapping from a suite's expectations, and those that did not map."""
    from airflow_opsguard.contract.loader import parse_contract
    from airflow_opsguard.errors import ContractError

    contract, skipped = _build(expectations, dataset, fold=True)
    try:
        parse_contract(contract)
    except ContractError:
        # Column shorthand that clashes with a column's type (a range on a text column):
        # state every check explicitly instead, and let the contract say what is wrong.
        contract, skipped = _build(expectations, dataset, fold=False)
    return contract, skipped


def _build(
    expectations: list[Mapping[str, Any]], dataset: str, *, fold: bool
) -> tuple[dict[str, Any], list[Skipped]]:
    from airflow_opsguard.contract.loader import parse_contract
    from airflow_opsguard.errors import ContractError

    builder = ContractBuilder(dataset, fold=fold)
    skipped: list[Skipped] = []
    for index, expectation in enumerate(expectations):
        where = f"expectations[{index}] {expectation.get('type')}"
        try:
            fragment = import_fragment(expectation)
            # Each fragment alone must be a valid contract: a bound our contract rejects
            # (min above max, say) is reported here rather than breaking the whole file.
            parse_contract({"dataset": dataset, **fragment.contract}, origin=where)
            builder.add(fragment)
        except Unmappable as exc:
            skipped.append(Skipped(where, str(exc)))
        except ContractError as exc:
            skipped.append(Skipped(where, str(exc).removeprefix(f"{where}: ")))
    return builder.contract(), skipped
