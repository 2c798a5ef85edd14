"""Run one gate on one batch, in its own process: ``python run_gate.py JSON``.

The JSON holds the contract, the batch id, the data and the store URL. The tests start
this script to kill it at a crash point (``OPSGUARD_CRASH_AT``) or to run gates at once.
Prints the settlement as one JSON line.
"""

from __future__ import annotations

import json
import sys

from airflow_opsguard.contract.loader import load_contract
from airflow_opsguard.quarantine.gate import guard
from airflow_opsguard.store import ResultStore


def main() -> None:
    spec = json.loads(sys.argv[1])
    with ResultStore(spec["store"]) as store:
        result, settled = guard(
            load_contract(spec["contract"]),
            batch_id=spec["batch_id"],
            data=spec.get("data"),
            table=spec.get("table"),
            store=store,
        )
    print(json.dumps({"status": None if result is None else result.status, **settled.to_dict()}))


if __name__ == "__main__":
    main()
