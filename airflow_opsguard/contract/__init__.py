"""Contracts: what a dataset must look like (see :mod:`.models`) and how to load one."""

from __future__ import annotations

from airflow_opsguard.contract.loader import load_contract, parse_contract, parse_contract_text
from airflow_opsguard.contract.models import Contract

__all__ = ["Contract", "load_contract", "parse_contract", "parse_contract_text"]
