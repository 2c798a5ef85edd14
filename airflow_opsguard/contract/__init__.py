"""Contracts: what a dataset must look like (see :mod:`.models`) and how to parse one in
our format. A contract file in any format is loaded by
:func:`airflow_opsguard.load_contract` (:mod:`airflow_opsguard.formats`)."""

from __future__ import annotations

from airflow_opsguard.contract.loader import parse_contract, parse_contract_text
from airflow_opsguard.contract.models import Contract

__all__ = ["Contract", "parse_contract", "parse_contract_text"]
