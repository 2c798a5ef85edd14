"""GX suites as a contract names them: read, checked, and built into GX objects.

A suite is a JSON file (GX 1.x: ``name`` and ``expectations`` of ``type`` and
``kwargs``; GX 0.x files with ``expectation_suite_name`` and ``expectation_type`` are
read too), a mapping of the same shape, or an ``ExpectationSuite``. Reading checks the
shape without GX; :func:`build_suite` imports GX and builds every expectation, so that an
unknown expectation type or a bad argument is an error naming the file and the
expectation, never an expectation silently dropped (GX's own ``ExpectationSuite``
constructor logs and drops an invalid one).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_opsguard.contract.paths import relative_to_contract
from airflow_opsguard.errors import ContractError
from airflow_opsguard.extras import missing_extra_message

if TYPE_CHECKING:
    from airflow_opsguard.contract.models import Contract

# The keys of an expectation that GX's ExpectationConfiguration takes from a suite file.
_EXPECTATION_KEYS = ("type", "kwargs", "meta", "notes", "description", "severity")
_ID_NAMESPACE = uuid.UUID("6f6c1d3e-8b0e-4c53-9a43-6f7073677561")


@dataclass(frozen=True)
class SuiteSpec:
    """A suite read from a file or a mapping: its name, where it came from (named in
    errors and results), and its expectations as plain mappings."""

    name: str
    origin: str
    expectations: tuple[Mapping[str, Any], ...]

    def expectation_id(self, index: int) -> str:
        """A stable id per expectation, by which GX's results are matched back."""
        return str(uuid.uuid5(_ID_NAMESPACE, f"{self.origin}#{index}"))


def read_suite_file(path: str) -> SuiteSpec:
    """Read a suite JSON file; :class:`ContractError` naming the file when it is missing,
    not JSON, beyond the limits of every contract file (size, nesting), or not a suite."""
    from airflow_opsguard.contract.safe_load import load_json_file

    return parse_suite(load_json_file(path, what="GX suite"), origin=path)


def parse_suite(data: Any, *, origin: str) -> SuiteSpec:
    """A suite from its JSON mapping; :class:`ContractError` naming ``origin``."""
    if not isinstance(data, Mapping):
        raise ContractError(f"{origin}: a GX suite is a JSON object with 'expectations'")
    raw = data.get("expectations")
    if not isinstance(raw, list):
        raise ContractError(f"{origin}: expectations: give a list of expectations")
    name = data.get("name") or data.get("expectation_suite_name") or _stem(origin)
    expectations: list[Mapping[str, Any]] = []
    for index, item in enumerate(raw):
        where = f"{origin}: expectations[{index}]"
        if not isinstance(item, Mapping):
            raise ContractError(f"{where}: an expectation is an object with 'type' and 'kwargs'")
        kind = item.get("type", item.get("expectation_type"))
        if not isinstance(kind, str) or not kind:
            raise ContractError(f"{where}: 'type' is missing (the expectation's name)")
        kwargs = item.get("kwargs", {})
        if not isinstance(kwargs, Mapping):
            raise ContractError(f"{where} ({kind}): kwargs: give a mapping of arguments")
        meta = item.get("meta") or {}
        if not isinstance(meta, Mapping):
            raise ContractError(f"{where} ({kind}): meta: give a mapping")
        expectation: dict[str, Any] = {"type": kind, "kwargs": dict(kwargs), "meta": dict(meta)}
        for key in ("notes", "description", "severity"):
            if item.get(key) is not None:
                expectation[key] = item[key]
        expectations.append(expectation)
    return SuiteSpec(name=str(name), origin=origin, expectations=tuple(expectations))


def _stem(origin: str) -> str:
    return os.path.splitext(os.path.basename(origin))[0] or "suite"


def contract_suites(contract: Contract, extra: Iterable[Any] = ()) -> list[SuiteSpec]:
    """The suites a contract names (paths read from the contract file's folder) and those
    given besides (``validate(..., gx_suites=[...])``: paths, mappings or suites)."""
    specs: list[SuiteSpec] = []
    for index, ref in enumerate([*contract.gx_suite, *extra]):
        specs.append(suite_spec(ref, contract, index))
    return specs


def suite_spec(ref: Any, contract: Contract | None = None, index: int = 0) -> SuiteSpec:
    """One suite from a path, a mapping or an ``ExpectationSuite``."""
    to_json = getattr(ref, "to_json_dict", None)
    if callable(to_json) and not isinstance(ref, str | Mapping):
        ref = to_json()
    if isinstance(ref, str | os.PathLike):
        return read_suite_file(relative_to_contract(contract, os.fspath(ref)))
    if isinstance(ref, Mapping):
        name = ref.get("name") or ref.get("expectation_suite_name") or f"suite {index + 1}"
        return parse_suite(ref, origin=f"<GX suite {name}>")
    raise ContractError(
        f"gx_suite[{index}]: give a suite file path, a suite mapping or an ExpectationSuite, "
        f"not a {type(ref).__name__}"
    )


def build_suite(spec: SuiteSpec) -> Any:
    """The GX ``ExpectationSuite`` of ``spec``; :class:`ContractError` naming the file and
    the expectation when GX does not know its type or rejects its arguments."""
    gx = import_gx()
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    configurations = []
    for index, expectation in enumerate(spec.expectations):
        fields = {k: expectation[k] for k in _EXPECTATION_KEYS if k in expectation}
        try:
            configuration = ExpectationConfiguration(**fields, id=spec.expectation_id(index))
            configuration.to_domain_obj()  # raises for an unknown type or bad arguments
        except Exception as exc:  # GX raises several unrelated types here
            if type(exc).__name__ == "ExpectationNotFoundError":
                raise ContractError(
                    f"{spec.origin}: expectations[{index}]: unknown expectation type "
                    f"{expectation['type']!r}"
                ) from None
            raise ContractError(
                f"{spec.origin}: expectations[{index}] ({expectation['type']}): {_gx_message(exc)}"
            ) from None
        configurations.append(configuration)
    return gx.ExpectationSuite(name=spec.name, expectations=configurations)


def import_gx() -> Any:
    """The ``great_expectations`` module; :class:`ContractError` saying to install the
    ``gx`` extra when it is not installed (the contract names a suite, and nothing here
    can run it)."""
    try:
        import great_expectations
    except ImportError as exc:
        raise ContractError(missing_extra_message(exc) or f"cannot import GX: {exc}") from None
    return great_expectations


def _gx_message(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    text = text.removeprefix("Could not add expectation; provided configuration is not valid: ")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    # pydantic's errors: "1 validation error for X" then the field and the problem.
    if len(lines) >= 3 and "validation error" in lines[0]:
        return re.sub(r"\s*[\[(]type=[^)\]]*[)\]]$", "", f"{lines[1]}: {lines[2]}")
    return lines[0]
