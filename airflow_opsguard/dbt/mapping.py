"""What a dbt model or source says, as the parts of an opsguard contract.

Each rule keeps where it came from (``constraint not_null``, ``test unique_orders_id``),
for the comments of the contract file; what has no counterpart is kept as a note with
the reason. The mapping is pure: a :class:`~airflow_opsguard.dbt.manifest.Manifest` in,
:class:`Draft` objects out, in a stable order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_opsguard.dbt.datatypes import contract_type
from airflow_opsguard.dbt.manifest import DataTest, Manifest, ManifestError, Relation

# The generic tests dbt ships with, and those of dbt_utils that have a counterpart (a
# project's own test of the same name and signature maps the same way).
CORE_TESTS = ("not_null", "unique", "accepted_values", "relationships")
UTILS_TESTS = ("accepted_range", "expression_is_true", "unique_combination_of_columns")
_PERIODS = {"minute": "m", "hour": "h", "day": "d"}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_QUOTED = re.compile(r'^(?:"([^"]+)"|`([^`]+)`|\[([^\]]+)\])$')
_CALL = r"""(ref|source)\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]+)['"]\s*)?\)"""
_MODEL_ARG = re.compile(_CALL)  # a test's model: "{{ get_where_subquery(ref('orders')) }}"
_REFERENCE = re.compile(rf"^\s*{_CALL}\s*$")  # dbt 1.8 keeps a foreign key's to: "ref('x')"
# A foreign key without `to` (dbt before 1.8) may say it as an expression: "customers (id)".
_FOREIGN_EXPRESSION = re.compile(r"^\s*([^\s(]+)\s*\(\s*([^\s,()]+)\s*\)\s*$")
_RELATION_PART = re.compile(r'"([^"]*)"|`([^`]*)`|([^.]+)')


@dataclass
class Rule:
    """One rule of the contract and what in dbt says so."""

    params: dict[str, Any]
    origins: list[str] = field(default_factory=list)


@dataclass
class ColumnDraft:
    """A column of the contract's schema: its type and its shorthand checks by kind
    (``not_null``, ``unique``, ``range``, ``allowed``)."""

    name: str
    type: str | None = None
    declared: bool = False
    origins: list[str] = field(default_factory=list)
    shorthand: dict[str, Rule] = field(default_factory=dict)


@dataclass
class Draft:
    """The contract of one dbt model or source, before it is written."""

    relation: Relation
    columns: dict[str, ColumnDraft] = field(default_factory=dict)
    checks: dict[str, Rule] = field(default_factory=dict)
    freshness: Rule | None = None
    notes: list[str] = field(default_factory=list)

    def column(self, name: str) -> ColumnDraft:
        """The column named ``name``, added (after the declared ones) on first use."""
        if name not in self.columns:
            self.columns[name] = ColumnDraft(name)
        return self.columns[name]

    @property
    def empty(self) -> bool:
        """True when dbt says nothing about the data that a contract could check."""
        typed = any(c.type or c.shorthand for c in self.columns.values())
        return not (typed or self.checks or self.freshness or self.relation.enforced)

    def sorted_checks(self) -> list[Rule]:
        """The explicit checks in a stable order: by type, then column, then the rest."""
        return [self.checks[key] for key in sorted(self.checks, key=_check_order)]


def select_relations(manifest: Manifest, select: Sequence[str] = ()) -> list[Relation]:
    """The models and sources to import: ``select`` names them (a model's name, its
    unique id, ``source:NAME`` or ``source:NAME.TABLE``); without it, every model and
    source of the manifest's own project. An unknown name is a :class:`ManifestError`."""
    relations = sorted(manifest.relations.values(), key=lambda r: (r.kind, r.name))
    if not select:
        own = [r for r in relations if manifest.project in (None, r.package)]
        return [r for r in own if r.kind in ("model", "source")]
    chosen: dict[str, Relation] = {}
    for name in select:
        found = [r for r in relations if _selected(r, name)]
        if not found:
            raise ManifestError(
                f"{manifest.path}: --select {name}: no model or source of that name "
                "(a model's name, or source:NAME[.TABLE])"
            )
        chosen.update((r.unique_id, r) for r in found)
    return sorted(chosen.values(), key=lambda r: (r.kind, r.name))


def _selected(relation: Relation, name: str) -> bool:
    if name == relation.unique_id:
        return True
    if name.startswith("source:"):
        wanted = name.removeprefix("source:")
        return relation.kind == "source" and (
            relation.name == wanted or relation.name.split(".", 1)[0] == wanted
        )
    return relation.kind != "source" and relation.name == name


def draft_contracts(manifest: Manifest, relations: Iterable[Relation]) -> list[Draft]:
    """A draft per relation, with every constraint, data test and freshness rule of it."""
    drafts = {r.unique_id: _draft(r, manifest) for r in relations}
    for test in manifest.tests:
        if test.test_name is None:
            for node in sorted(set(test.depends_on)):
                if node in drafts:
                    drafts[node].notes.append(
                        f"test {test.name}: a singular test (its own SQL) has no counterpart"
                    )
            continue
        target = _test_target(test, manifest)
        if target in drafts:
            _apply_test(drafts[target], test, manifest)
    return list(drafts.values())


def _draft(relation: Relation, manifest: Manifest) -> Draft:
    draft = Draft(relation)
    for column in relation.columns:
        found = draft.column(column.name)
        found.declared = True
        if column.data_type:
            found.type = contract_type(column.data_type)
            if found.type is None:
                draft.notes.append(
                    f"column {column.name}: data type {column.data_type!r} has no contract "
                    "type; the column is checked for presence only"
                )
            else:
                found.origins.append(f"data_type {column.data_type}")
        for constraint in column.constraints:
            _apply_constraint(draft, constraint, [column.name], manifest)
    for constraint in relation.constraints:
        columns = constraint.get("columns") or []
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            draft.notes.append(f"constraint {constraint['type']}: 'columns' is not a list of names")
            continue
        _apply_constraint(draft, constraint, columns, manifest)
    if relation.kind == "source":
        _apply_freshness(draft)
    return draft


# ------------------------------------------------------------------------ constraints


def _apply_constraint(
    draft: Draft, constraint: Mapping[str, Any], columns: list[str], manifest: Manifest
) -> None:
    kind = str(constraint["type"])
    named = constraint.get("name")
    origin = f"constraint {kind}" + (f" {named}" if named else "")
    if kind in ("not_null", "unique", "primary_key") and not columns:
        draft.notes.append(f"{origin}: names no columns")
    elif kind == "not_null":
        for column in columns:
            _column_rule(draft, column, "not_null", {}, origin, "fail")
    elif kind in ("unique", "primary_key"):
        if kind == "primary_key":
            for column in columns:
                _column_rule(draft, column, "not_null", {}, origin, "fail")
        if len(columns) == 1:
            _column_rule(draft, columns[0], "unique", {}, origin, "fail")
        else:
            _add_check(draft, {"type": "unique", "columns": list(columns)}, origin)
    elif kind == "check":
        expression = constraint.get("expression")
        if isinstance(expression, str) and expression.strip():
            # A SQL CHECK passes when its condition is NULL.
            check = {"type": "expression", "expression": expression.strip(), "if_null": "pass"}
            _add_check(draft, check, origin)
        else:
            draft.notes.append(f"{origin}: no expression")
    elif kind == "foreign_key":
        _apply_foreign_key(draft, constraint, columns, origin, manifest)
    else:
        draft.notes.append(f"{origin}: constraint type {kind!r} has no counterpart")


def _apply_foreign_key(
    draft: Draft,
    constraint: Mapping[str, Any],
    columns: list[str],
    origin: str,
    manifest: Manifest,
) -> None:
    to, to_columns = constraint.get("to"), constraint.get("to_columns") or []
    expression = constraint.get("expression")
    if isinstance(to, str) and to:
        table, database = _relation_table(to, manifest)
    elif isinstance(expression, str) and (found := _FOREIGN_EXPRESSION.match(expression)):
        table, database = _relation_table(found.group(1), manifest)
        to_columns = [found.group(2)]
    else:
        draft.notes.append(f"{origin}: names no referenced table")
        return
    if len(columns) != 1 or not isinstance(to_columns, list) or len(to_columns) != 1:
        draft.notes.append(f"{origin}: a foreign key of several columns has no counterpart")
        return
    _add_reference(draft, columns[0], table, database, str(to_columns[0]), origin, "fail")


def _relation_table(text: str, manifest: Manifest) -> tuple[str, str | None]:
    """``schema.table`` and the database of a relation as dbt writes it
    (``"db"."schema"."table"``), or of a name in an old foreign key expression."""
    wanted = _plain(text)
    called = _REFERENCE.match(text)
    for relation in manifest.relations.values():
        if relation.relation_name and _plain(relation.relation_name) == wanted:
            return relation.table, relation.database
        if (
            called is not None
            and relation.name == _called_name(called)
            and (relation.kind == "source") == (called.group(1) == "source")
        ):
            return relation.table, relation.database
    parts = [next(p for p in match if p) for match in _RELATION_PART.findall(text.strip())]
    database = parts[-3] if len(parts) >= 3 else None
    if len(parts) < 2:
        return text.strip(), None
    return manifest.table_name(database, parts[-2], parts[-1]), database


def _called_name(found: re.Match[str]) -> str:
    """The name a ``ref('x')`` or ``source('a', 'b')`` refers to, as a relation's name."""
    kind, first, second = found.groups()
    if kind == "source":
        return f"{first}.{second}" if second else first
    return second or first  # ref('package', 'model') or ref('model')


def _plain(relation_name: str) -> str:
    return re.sub(r'["`]', "", relation_name).strip().lower()


# ------------------------------------------------------------------------ data tests


def _test_target(test: DataTest, manifest: Manifest) -> str | None:
    """The model or source a generic test checks."""
    if test.attached_node:
        return test.attached_node
    found = _MODEL_ARG.search(str(test.kwargs.get("model", "")))
    if found is not None:
        name = _called_name(found)
        for node in test.depends_on:
            relation = manifest.relations.get(node)
            if relation is not None and relation.name == name:
                return node
    return test.depends_on[0] if len(test.depends_on) == 1 else None


def _apply_test(draft: Draft, test: DataTest, manifest: Manifest) -> None:
    name = test.test_name or ""
    origin = f"test {test.name}"
    if not _maps(name, test.namespace):
        package = f" (from {test.namespace})" if test.namespace else ""
        draft.notes.append(f"{origin}: generic test {name!r}{package} has no counterpart")
        return
    unsupported = _unsupported_config(test.config)
    if unsupported:
        draft.notes.append(f"{origin}: {unsupported}")
        return
    severity = "warn" if str(test.config.get("severity", "error")).lower() == "warn" else "fail"
    threshold = _threshold(test.config)
    if threshold:
        severity = "warn"  # dbt tolerates some failing rows: never block what dbt passes
    column = _column(test.column_name)
    if test.column_name is not None and column is None:
        draft.notes.append(
            f"{origin}: its column is an expression ({test.column_name!r}), not a column"
        )
        return
    kwargs = test.kwargs
    where = test.config.get("where")
    mapped = True
    if where:
        mapped = _filtered_test(draft, test, column, str(where), origin, severity)
    elif name == "expression_is_true":
        mapped = _expression_test(draft, kwargs, test.column_name, origin, severity)
    elif name == "unique_combination_of_columns":
        mapped = _combination_test(draft, kwargs, origin, severity)
    elif column is None:
        draft.notes.append(f"{origin}: names no column")
        return
    elif name in ("not_null", "unique"):
        _column_rule(draft, column, name, {}, origin, severity)
    elif name == "accepted_values":
        mapped = _accepted_values(draft, column, kwargs, origin, severity)
    elif name == "relationships":
        mapped = _relationships(draft, test, column, origin, severity, manifest)
    elif name == "accepted_range":
        mapped = _accepted_range(draft, column, kwargs, origin, severity)
    if mapped and threshold:
        draft.notes.append(
            f"{origin}: imported as a warning: its threshold ({threshold}) has no "
            "counterpart (a check fails on the first failing row)"
        )


def _maps(name: str, namespace: str | None) -> bool:
    if namespace is None:
        return name in CORE_TESTS or name in UTILS_TESTS
    return namespace == "dbt_utils" and name in UTILS_TESTS


def _unsupported_config(config: Mapping[str, Any]) -> str | None:
    fail_calc = config.get("fail_calc")
    if fail_calc and str(fail_calc).replace(" ", "").lower() != "count(*)":
        return f"its fail_calc ({fail_calc}) has no counterpart"
    return None


def _threshold(config: Mapping[str, Any]) -> str | None:
    """A dbt threshold other than "any failing row" (``error_if: '>10'``), which a
    contract does not have: the check fails on the first failing row."""
    found = []
    for key in ("warn_if", "error_if"):
        value = config.get(key)
        if value is not None and str(value).replace(" ", "") != "!=0":
            found.append(f"{key} {value!r}")
    return ", ".join(found) or None


def _column(name: str | None) -> str | None:
    if name is None:
        return None
    text = name.strip()
    if _IDENTIFIER.match(text):
        return text
    quoted = _QUOTED.match(text)
    return next(p for p in quoted.groups() if p) if quoted else None


def _filtered_test(
    draft: Draft, test: DataTest, column: str | None, where: str, origin: str, severity: str
) -> bool:
    """A test on the rows its ``where`` filter keeps, as an ``expression`` check that
    passes every other row (a filter that is NULL drops the row, as in SQL's WHERE)."""
    name = test.test_name or ""
    kwargs = test.kwargs
    predicate: str | None = None
    problem: str | None = None
    if "{{" in where or "{%" in where:
        problem = f"its where filter ({where}) is a template, not SQL"
    elif name == "expression_is_true":
        predicate = _expression_text(kwargs, test.column_name)
        problem = "no expression"
    elif name not in ("not_null", "accepted_values", "accepted_range"):
        problem = (
            f"its where filter ({where}) has no counterpart for a {name} test: a contract "
            "checks every row"
        )
    elif column is None:
        problem = "names no column"
    elif name == "not_null":
        predicate = f"{column} is not null"
    elif name == "accepted_values":
        problem = _values_problem(kwargs.get("values"))
        if not problem:
            quote = kwargs.get("quote", True) is not False
            listed = ", ".join(_literal(v) if quote else str(v) for v in kwargs["values"])
            predicate = f"{column} is null or {column} in ({listed})"
    else:
        terms = _range_terms(column, kwargs)
        problem = "neither min_value nor max_value"
        predicate = f"{column} is null or ({' and '.join(terms)})" if terms else None
    if predicate is None:
        draft.notes.append(f"{origin}: {problem}")
        return False
    check = {
        "type": "expression",
        "expression": f"not coalesce(({where}), false) or ({predicate})",
        "if_null": "pass",
    }
    _add_check(draft, _severe(check, severity), origin)
    return True


def _literal(value: Any) -> str:
    """A value as dbt's accepted_values quotes it: text in single quotes."""
    return "'" + str(value).replace("'", "''") + "'"


def _values_problem(values: Any) -> str | None:
    if not isinstance(values, list) or not values:
        return "no list of values"
    if any(isinstance(v, dict | list) or v is None for v in values):
        return "values that are not plain text or numbers"
    return None


def _accepted_values(
    draft: Draft, column: str, kwargs: Mapping[str, Any], origin: str, severity: str
) -> bool:
    values = kwargs.get("values")
    problem = _values_problem(values)
    if problem or not isinstance(values, list):
        draft.notes.append(f"{origin}: {problem}")
        return False
    if kwargs.get("quote", True) is False and any(isinstance(v, str) for v in values):
        # Unquoted values are SQL: compare them in the database, as dbt does.
        listed = ", ".join(str(v) for v in values)
        check = {"type": "expression", "expression": f"{column} in ({listed})", "if_null": "pass"}
        _add_check(draft, _severe(check, severity), origin)
        return True
    _column_rule(draft, column, "allowed", {"values": list(values)}, origin, severity)
    return True


def _accepted_range(
    draft: Draft, column: str, kwargs: Mapping[str, Any], origin: str, severity: str
) -> bool:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    strict = kwargs.get("inclusive", True) is False
    if low is None and high is None:
        draft.notes.append(f"{origin}: neither min_value nor max_value")
        return False
    bounds = [b for b in (low, high) if b is not None]
    if all(_is_number(b) for b in bounds):
        params: dict[str, Any] = {}
        if low is not None:
            params["min"] = _number(low)
        if high is not None:
            params["max"] = _number(high)
        if strict:
            params.update({"strict_min": low is not None, "strict_max": high is not None})
        _column_rule(draft, column, "range", params, origin, severity)
        return True
    # A bound that is SQL (a date literal, a subquery) is compared in the database.
    terms = _range_terms(column, kwargs)
    check = {"type": "expression", "expression": " and ".join(terms), "if_null": "pass"}
    _add_check(draft, _severe(check, severity), origin)
    return True


def _range_terms(column: str, kwargs: Mapping[str, Any]) -> list[str]:
    """accepted_range's bounds as SQL, written as dbt_utils writes them."""
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    strict = kwargs.get("inclusive", True) is False
    terms = []
    if low is not None:
        terms.append(f"{column} {'>' if strict else '>='} {low}")
    if high is not None:
        terms.append(f"{column} {'<' if strict else '<='} {high}")
    return terms


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and re.fullmatch(r"\s*-?\d+(\.\d+)?\s*", value) is not None


def _number(value: Any) -> int | float:
    if isinstance(value, int | float):
        return value
    text = str(value).strip()
    return float(text) if "." in text else int(text)


def _expression_test(
    draft: Draft, kwargs: Mapping[str, Any], column: str | None, origin: str, severity: str
) -> bool:
    text = _expression_text(kwargs, column)
    if text is None:
        draft.notes.append(f"{origin}: no expression")
        return False
    # A NULL condition passes, as in dbt_utils.
    check = {"type": "expression", "expression": text, "if_null": "pass"}
    _add_check(draft, _severe(check, severity), origin)
    return True


def _expression_text(kwargs: Mapping[str, Any], column: str | None) -> str | None:
    """expression_is_true's condition; dbt_utils writes the column in front of it."""
    expression = kwargs.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        return None
    return f"{column} {expression.strip()}" if column else expression.strip()


def _combination_test(draft: Draft, kwargs: Mapping[str, Any], origin: str, severity: str) -> bool:
    columns = kwargs.get("combination_of_columns")
    names = [_column(c) if isinstance(c, str) else None for c in columns or []]
    if not names or any(n is None for n in names):
        draft.notes.append(f"{origin}: combination_of_columns is not a list of columns")
        return False
    check = {"type": "unique", "columns": names}
    _add_check(draft, _severe(check, severity), origin)
    return True


def _relationships(
    draft: Draft, test: DataTest, column: str, origin: str, severity: str, manifest: Manifest
) -> bool:
    field_name = _column(str(test.kwargs.get("field", "")))
    others = [n for n in test.depends_on if n != draft.relation.unique_id]
    if not others and draft.relation.unique_id in test.depends_on:
        others = [draft.relation.unique_id]  # a column that refers to its own table
    other = manifest.relations.get(others[0]) if len(others) == 1 else None
    if field_name is None or other is None:
        draft.notes.append(f"{origin}: the referenced model and column are not known")
        return False
    return _add_reference(draft, column, other.table, other.database, field_name, origin, severity)


def _add_reference(
    draft: Draft,
    column: str,
    table: str,
    database: str | None,
    to_column: str,
    origin: str,
    severity: str,
) -> bool:
    own = draft.relation.database
    if database and own and database.lower() != own.lower():
        draft.notes.append(
            f"{origin}: the referenced table is in another database ({database}); a "
            "reference check reads one database"
        )
        return False
    check = {"type": "reference", "column": column, "to": {"table": table, "column": to_column}}
    _add_check(draft, _severe(check, severity), origin)
    return True


# ------------------------------------------------------------------------ freshness


def _apply_freshness(draft: Draft) -> None:
    relation = draft.relation
    freshness = relation.freshness or {}
    limits = {
        ours: _duration(freshness.get(theirs))
        for ours, theirs in (("warn_after", "warn_after"), ("fail_after", "error_after"))
    }
    limits = {k: v for k, v in limits.items() if v}
    if not limits:
        return
    origin = "source freshness"
    column = _column(relation.loaded_at_field)
    if column is None:
        what = relation.loaded_at_field or "no loaded_at_field (loaded_at_query or metadata)"
        draft.notes.append(f"{origin}: needs a column, not {what}")
        return
    if freshness.get("filter"):
        draft.notes.append(
            f"{origin}: its filter ({freshness['filter']}) has no counterpart: the newest "
            "value of every row counts"
        )
    draft.freshness = Rule({"column": column, **limits}, [origin])
    draft.column(column).origins.append(f"{origin}: loaded_at_field")


def _duration(limit: Any) -> str | None:
    if not isinstance(limit, dict):
        return None
    count, period = limit.get("count"), limit.get("period")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        return None
    unit = _PERIODS.get(str(period))
    return f"{count}{unit}" if unit else None


# ------------------------------------------------------------------------ rules


def _column_rule(
    draft: Draft, column: str, kind: str, params: dict[str, Any], origin: str, severity: str
) -> None:
    """A column check: in the column's shorthand when it is the first of its kind there
    (shorthand checks fail), otherwise an explicit check."""
    found = draft.column(column)
    existing = found.shorthand.get(kind)
    if severity == "fail" and (existing is None or existing.params == params):
        if existing is None:
            found.shorthand[kind] = Rule(params, [origin])
        elif origin not in existing.origins:
            existing.origins.append(origin)
        return
    _add_check(draft, _severe({"type": kind, "column": column, **params}, severity), origin)


def _add_check(draft: Draft, params: dict[str, Any], origin: str) -> None:
    """An explicit check; the same check from two places is one, with both origins."""
    key = json.dumps(params, sort_keys=True, default=str)
    rule = draft.checks.setdefault(key, Rule(params))
    if origin not in rule.origins:
        rule.origins.append(origin)


def _severe(check: dict[str, Any], severity: str) -> dict[str, Any]:
    return {**check, "severity": "warn"} if severity == "warn" else check


def _check_order(key: str) -> tuple[str, str, str]:
    params = json.loads(key)
    column = params.get("column") or ",".join(params.get("columns") or [])
    return params["type"], column, key
