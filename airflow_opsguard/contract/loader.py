"""Load contracts from YAML, with errors that name the file, the line and the key path."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from airflow_opsguard.contract.checks import CHECK_TYPES
from airflow_opsguard.contract.contract import Contract
from airflow_opsguard.contract.safe_load import load_yaml, load_yaml_file
from airflow_opsguard.contract.text import clip, short_repr
from airflow_opsguard.errors import ContractError

ContractLike = Contract | str | os.PathLike[str] | Mapping[str, Any]


def read_contract_file(path: str | os.PathLike[str]) -> tuple[Any, yaml.Node | None]:
    """The YAML document of a contract file and its node tree (for line numbers), read
    within the limits of :mod:`airflow_opsguard.contract.safe_load`. Which format the
    document is written in is decided above this layer
    (:func:`airflow_opsguard.formats.load_contract`)."""
    return load_yaml_file(os.fspath(path), what="contract")


def parse_contract_text(text: str, *, origin: str = "<contract>") -> Contract:
    """Parse a contract from YAML text; ``origin`` names it in error messages. The text
    is read within the limits of :mod:`airflow_opsguard.contract.safe_load`."""
    data, node = load_yaml(text, origin=origin, what="contract")
    return parse_contract(contract_mapping(data, origin=origin), origin=origin, node=node)


def contract_mapping(data: Any, *, origin: str) -> Mapping[str, Any]:
    """``data`` as the mapping that a contract document is, or one line saying why not."""
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else f"a {_kind(data)}"
        raise ContractError(
            f"{origin}: a contract is a mapping with at least a 'dataset' key, not {kind}"
        )
    return data


def _kind(data: Any) -> str:
    kinds = ((bool, "boolean"), (int | float, "number"), (str, "string"), (list, "list"))
    return next((name for kind, name in kinds if isinstance(data, kind)), type(data).__name__)


def parse_contract(
    data: Mapping[str, Any], *, origin: str = "<contract>", node: yaml.Node | None = None
) -> Contract:
    """A contract from its mapping, in our format (an ODCS document is converted first,
    by :func:`airflow_opsguard.formats.parse_document`)."""
    try:
        return Contract.model_validate(data)
    except ValidationError as exc:
        raise ContractError(_describe(exc, origin, node)) from None


def _describe(exc: ValidationError, origin: str, node: yaml.Node | None) -> str:
    """One line for the first error, and how many more there are."""
    errors = exc.errors(include_url=False)
    count, first = len(errors), errors[0]
    loc = _clean_loc(first["loc"])
    message = _message(first, loc)
    if loc and loc[-1] in _MEMBER_KINDS:
        # A value that no member of a union (number, date, ...) takes: one problem.
        siblings = [e for e in errors if _clean_loc(e["loc"])[:-1] == loc[:-1]]
        kinds = dict.fromkeys(_MEMBER_KINDS.get(str(e["loc"][-1]), "") for e in siblings)
        count -= len(siblings) - 1
        loc = loc[:-1]
        names = [k for k in kinds if k]
        listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else "".join(names)
        message = f"{short_repr(first['input'])} is not a {listed}"
    # Validators on a whole model say which key they mean at the start of the message.
    inner = _KEY_PREFIX.match(message)
    if inner:
        loc = (*loc, *_parse_loc(inner.group(1)))
        message = inner.group(2)
    key = _format_loc(loc)
    line = line_of(node, loc)
    where = f"{origin}:{line}" if line else origin
    more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    return f"{where}: {key + ': ' if key else ''}{clip(message, 300)}{more}"


def each_problem(exc: ValidationError, origin: str, node: yaml.Node | None) -> list[str]:
    """One line per problem of ``exc`` (``file:line: key: message``), for ``opsguard
    lint``; a value that no member of a union takes is one problem, as in :func:`_describe`."""
    groups: dict[tuple[int | str, ...], list[Any]] = {}
    for error in exc.errors(include_url=False):
        loc = _clean_loc(error["loc"])
        groups.setdefault(loc[:-1] if loc and loc[-1] in _MEMBER_KINDS else loc, []).append(error)
    return [
        _describe(ValidationError.from_exception_data(exc.title, group), origin, node)
        for group in groups.values()
    ]


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The key path without the tag ("range") that the discriminated ``Check`` union
    adds after ``checks[i]``."""
    out: list[int | str] = []
    for i, part in enumerate(loc):
        after_check = i >= 2 and loc[i - 2] == "checks" and isinstance(loc[i - 1], int)
        if after_check and part in CHECK_TYPES:
            continue
        out.append(part)
    return tuple(out)


# The tags pydantic gives the members of a union of plain types (a bound, a value).
_MEMBER_KINDS = {
    "int": "number",
    "float": "number",
    "decimal": "number",
    "bool": "boolean",
    "str": "string",
    "date": "date",
    "datetime": "timestamp",
}

_KEY_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$", re.DOTALL)


def _parse_loc(text: str) -> tuple[int | str, ...]:
    parts: list[int | str] = []
    for name, index in re.findall(r"([A-Za-z_]\w*)|\[(\d+)\]", text):
        parts.append(int(index) if index else name)
    return tuple(parts)


def _format_loc(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        name = clip(str(part), 60)
        text += f"[{part}]" if isinstance(part, int) else (f".{name}" if text else name)
    return text


def _message(error: Mapping[str, Any], loc: tuple[int | str, ...]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        name = loc[-1] if loc else "?"
        return f"unknown key {short_repr(name, 60)}"
    if kind == "missing":
        return "this key is required"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{short_repr(error['input'])} is not allowed; expected {expected}"
    if kind == "union_tag_invalid":
        ctx = error.get("ctx", {})
        tag = short_repr(ctx.get("tag"))
        return f"unknown check type {tag}; expected {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "each check needs a 'type'"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the deepest YAML node on the path ``loc``."""
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line = key.start_mark.line + 1
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
