"""Reading YAML and JSON documents within bounds: the one reader of every contract file,
ODCS document and GX suite file.

A contract file is read when a DAG file is parsed and when a gate runs, so a broken or
hostile file must cost little and say what is wrong in one line. Before any Python
object is built, the reader refuses:

- a file larger than :data:`MAX_FILE_BYTES` (10 MB);
- nesting deeper than :data:`MAX_DEPTH` (64 levels; aliases count at the depth they
  are used);
- more than :data:`MAX_NODES` values (200,000 keys, values and list items, each use of
  an alias counted in full: an "alias bomb" of ten lines that would expand to billions
  of values is refused at once), and an alias that contains itself;
- a key given twice in one mapping (YAML would silently keep the last one, so a
  second ``checks:`` would drop the first one's checks).

Text is UTF-8, or UTF-16 or UTF-32 with a byte order mark. Every refusal is a
:class:`~airflow_opsguard.errors.ContractError` whose message names the file and line.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from airflow_opsguard.contract.text import clip, short_repr
from airflow_opsguard.errors import ContractError

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000
# Paths are quoted in full up to this length (a path a contract names may be anything).
_PATH_LIMIT = 300

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16's, which it starts with
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_MERGE_TAG = "tag:yaml.org,2002:merge"


def limits_text() -> str:
    """The limits, as the documentation states them."""
    return (
        f"{MAX_FILE_BYTES // (1024 * 1024)} MB, {MAX_DEPTH} levels of nesting, "
        f"{MAX_NODES:,} values after aliases are expanded"
    )


# --------------------------------------------------------------------------- files


def read_text(path: str | os.PathLike[str], *, what: str = "contract") -> str:
    """The text of the file at ``path``, at most :data:`MAX_FILE_BYTES` long; ``what``
    names the kind of document in messages ("contract", "GX suite")."""
    name = clip(os.fspath(path), _PATH_LIMIT)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)  # a device or pipe may never end
    except FileNotFoundError:
        raise ContractError(f"{name}: no such {what} file") from None
    except IsADirectoryError:
        raise ContractError(f"{name}: a folder, not a {what} file") from None
    except OSError as exc:
        raise ContractError(f"{name}: cannot read the {what}: {exc.strerror or exc}") from None
    except ValueError as exc:  # a NUL byte in the path
        raise ContractError(f"{name}: cannot read the {what}: {exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ContractError(f"{name}: larger than {_megabytes()}, the limit for a {what} file")
    return decode(raw, origin=name, what=what)


def decode(raw: bytes, *, origin: str, what: str = "contract") -> str:
    """Bytes as text: UTF-8, or UTF-16/UTF-32 with a byte order mark."""
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        byte = raw[exc.start : exc.start + 1].hex()
        kind = "UTF-8" if encoding == "utf-8" else encoding.upper()
        raise ContractError(
            f"{origin}: not {kind} text (byte 0x{byte} at offset {exc.start}): "
            f"is it a binary file? Save the {what} as UTF-8"
        ) from None
    head = raw[:4096]
    if encoding == "utf-8" and head.count(0) > len(head) // 3:
        raise ContractError(
            f"{origin}: UTF-16 or UTF-32 text without a byte order mark? Save the {what} as UTF-8"
        )
    return text


def load_yaml_file(
    path: str | os.PathLike[str], *, what: str = "contract"
) -> tuple[Any, yaml.Node | None]:
    """The document in a YAML file and its node tree (for lines), within the limits."""
    text = read_text(path, what=what)
    return load_yaml(text, origin=clip(os.fspath(path), _PATH_LIMIT), what=what)


def load_json_file(path: str | os.PathLike[str], *, what: str) -> Any:
    """The document in a JSON file, within the size and depth limits."""
    text = read_text(path, what=what)
    return load_json(text, origin=clip(os.fspath(path), _PATH_LIMIT), what=what)


def _megabytes() -> str:
    return f"{MAX_FILE_BYTES // (1024 * 1024)} MB"


# --------------------------------------------------------------------------- YAML


class _Refused(Exception):
    """A limit was reached at ``line`` (1-based; 0: unknown)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """The safe loader (libyaml's when installed), whose scalars that Python cannot
    build (a date that does not exist, an integer of 5,000 digits) are YAML errors at
    their line rather than a ValueError from deep inside."""


def _guarded(build: Callable[[Any, yaml.ScalarNode], Any], what: str) -> Callable[[Any, Any], Any]:
    def construct(loader: Any, node: yaml.ScalarNode) -> Any:
        try:
            return build(loader, node)
        except (ValueError, OverflowError):
            raise ConstructorError(
                None, None, f"{short_repr(node.value)} is not a valid {what}", node.start_mark
            ) from None

    return construct


_Loader.add_constructor(
    "tag:yaml.org,2002:int", _guarded(yaml.SafeLoader.construct_yaml_int, "whole number")
)
_Loader.add_constructor(
    "tag:yaml.org,2002:float", _guarded(yaml.SafeLoader.construct_yaml_float, "number")
)
_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    _guarded(yaml.SafeLoader.construct_yaml_timestamp, "date or timestamp"),
)


def load_yaml(
    text: str, *, origin: str = "<contract>", what: str = "contract"
) -> tuple[Any, yaml.Node | None]:
    """The document in ``text`` and its node tree, or :class:`ContractError` naming
    ``origin`` and the line when the text is not YAML or goes beyond a limit.

    An empty document is ``(None, None)``.
    """
    if len(text) > MAX_FILE_BYTES:
        raise ContractError(f"{origin}: larger than {_megabytes()}, the limit for a {what}")
    try:
        _scan(text, what)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None
            _Walk(loader, what).visit(node, 1, ())
            return loader.construct_document(node), node
        finally:
            loader.dispose()
    except _Refused as exc:
        where = f"{origin}:{exc.line}" if exc.line else origin
        raise ContractError(f"{where}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        problem = exc.problem or exc.context or "not YAML"
        if "nesting depth" in problem:  # libyaml's own limit, met while reading ahead
            raise ContractError(f"{where}: {_too_deep(what)}") from None
        raise ContractError(f"{where}: invalid YAML: {clip(problem, 200)}") from None
    except yaml.reader.ReaderError as exc:
        line = text.encode("utf-8", "replace")[: exc.position].count(b"\n") + 1
        raise ContractError(
            f"{origin}:{line}: not a YAML text file: character #x{exc.character:04x} is not "
            "allowed (is it a binary file?)"
        ) from None
    except yaml.YAMLError as exc:
        raise ContractError(f"{origin}: invalid YAML: {clip(str(exc), 200)}") from None


def _scan(text: str, what: str) -> None:
    """Walk the document's events (a stream: nothing is built) and refuse nesting deeper
    than :data:`MAX_DEPTH` and more than :data:`MAX_NODES` written values."""
    loader = _Loader(text)
    depth = nodes = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _Refused(line, _too_deep(what))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.NodeEvent) and not isinstance(event, yaml.AliasEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    raise _Refused(line, _too_many(what))
    finally:
        loader.dispose()


def _too_deep(what: str) -> str:
    return f"nested deeper than {MAX_DEPTH} levels, the limit for a {what}"


def _too_many(what: str) -> str:
    return (
        f"more than {MAX_NODES:,} values (keys, values and list items, each use of an "
        f"alias counted in full), the limit for a {what}"
    )


class _Walk:
    """One pass over the composed node graph, where an alias is the very node it names:
    counts the values as if aliases were expanded, measures the depth they reach, finds
    aliases that contain themselves and keys given twice. Each node's subtree is
    measured once, so an alias bomb costs as little as its text."""

    def __init__(self, loader: Any, what: str) -> None:
        self.loader = loader
        self.what = what
        self.measured: dict[int, tuple[int, int]] = {}  # id -> (values, height)
        self.open: set[int] = set()  # the nodes on the current path

    def visit(self, node: yaml.Node, depth: int, path: tuple[str | int, ...]) -> tuple[int, int]:
        key = id(node)
        known = self.measured.get(key)
        if known is None:
            if key in self.open:
                raise _Refused(
                    node.start_mark.line + 1,
                    f"{_path(path) or 'the document'}: an alias refers to a node that "
                    "contains it (a structure without end)",
                )
            if depth > MAX_DEPTH:
                raise _Refused(node.start_mark.line + 1, self._too_deep())
            self.open.add(key)
            known = self._children(node, depth, path)
            self.open.discard(key)
            self.measured[key] = known
        if depth - 1 + known[1] > MAX_DEPTH:
            raise _Refused(node.start_mark.line + 1, self._too_deep())
        return known

    def _children(
        self, node: yaml.Node, depth: int, path: tuple[str | int, ...]
    ) -> tuple[int, int]:
        values, height = 1, 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                name = self._key(key_node, seen, path)
                for child in (key_node, value_node):
                    size, tall = self.visit(child, depth + 1, (*path, name))
                    values, height = values + size, max(height, tall + 1)
                    self._count(values, node)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                size, tall = self.visit(item, depth + 1, (*path, index))
                values, height = values + size, max(height, tall + 1)
                self._count(values, node)
        return values, height

    def _key(self, node: yaml.Node, seen: dict[Any, int], path: tuple[str | int, ...]) -> str:
        """The key's name for paths; :class:`_Refused` when the mapping has it already."""
        if not isinstance(node, yaml.ScalarNode):
            return "?"
        name = clip(str(node.value), 60)
        if node.tag == _MERGE_TAG:  # "<<: *defaults": explicit keys override merged ones
            return name
        value = self.loader.construct_object(node)
        line = node.start_mark.line + 1
        try:
            first = seen.get(value)
            seen.setdefault(value, line)
        except TypeError:  # unhashable: construction reports it at its line
            return name
        if first is not None:
            raise _Refused(
                line,
                f"{_path((*path, name))}: the key is given twice in one mapping (first at "
                f"line {first}); YAML would silently keep only the last one",
            )
        return name

    def _count(self, values: int, node: yaml.Node) -> None:
        if values > MAX_NODES:
            raise _Refused(node.start_mark.line + 1, _too_many(self.what))

    def _too_deep(self) -> str:
        return (
            f"nested deeper than {MAX_DEPTH} levels (aliases included), the limit for a {self.what}"
        )


def _path(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --------------------------------------------------------------------------- JSON


def load_json(text: str, *, origin: str, what: str) -> Any:
    """The document in JSON ``text``, or :class:`ContractError` naming ``origin`` when it
    is not JSON, larger than :data:`MAX_FILE_BYTES`, nested deeper than
    :data:`MAX_DEPTH`, or gives a key twice in one object."""
    if len(text) > MAX_FILE_BYTES:
        raise ContractError(f"{origin}: larger than {_megabytes()}, the limit for a {what}")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise ContractError(
            f"{origin}:{exc.lineno}: the {what} is not valid JSON: {exc.msg}"
        ) from None
    except _Refused as exc:
        raise ContractError(f"{origin}: {exc.message}") from None
    except RecursionError:
        raise ContractError(_json_too_deep(origin, what)) from None
    except ValueError as exc:  # a number of more than 4,300 digits
        raise ContractError(
            f"{origin}: the {what} is not valid JSON: {clip(str(exc), 120)}"
        ) from None
    if _json_depth(data) > MAX_DEPTH:
        raise ContractError(_json_too_deep(origin, what))
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _Refused(
                0,
                f"the key {short_repr(key)} is given twice in one object; JSON readers "
                "would silently keep only the last one",
            )
        found[key] = value
    return found


def _json_depth(data: Any) -> int:
    """The nesting depth of parsed JSON, measured without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _json_too_deep(origin: str, what: str) -> str:
    return f"{origin}: {_too_deep(what)}"
