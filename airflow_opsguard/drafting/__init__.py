"""Draft a contract from data: ``opsguard init`` and :func:`draft_contract`.

The data is profiled once through the engines and every rule the draft proposes holds
on it; the draft is commented YAML in shadow mode (see docs/adoption.md).
"""

from __future__ import annotations

from airflow_opsguard.drafting.draft import Draft, draft, draft_contract, reference_name

__all__ = ["Draft", "draft", "draft_contract", "reference_name"]
