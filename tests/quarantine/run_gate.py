"""Run one gate on one batch, in its own process: ``python run_gate.py JSON``.

The JSON holds the contract, the batch id, the data and the store URL. The tests start
this script to kill it at a crash point (``OPSGUARD_CRASH_AT``) or to run gates at once.
It runs the gate pipeline that every gate task runs (moving data as the verdict says).
Prints the settlement, the verdict and whether this try checked the data (``status``)
as one JSON line.
"""

from __future__ import annotations

import json
import sys

from airflow_opsguard.pipeline import run_gate
from airflow_opsguard.quarantine.settlement import Settlement
from airflow_opsguard.store import ResultStore


def main() -> None:
    spec = json.loads(sys.argv[1])
    with ResultStore(spec["store"]) as store:
        run = run_gate(
            spec["contract"],
            batch_id=spec["batch_id"],
            data=spec.get("data"),
            table=spec.get("table"),
            store=store,
            act=True,
        )
    settled = run.settlement or Settlement("none")
    status = None if run.resumed or run.result is None else run.result.status
    # The verdict the gate reports, resumed or not (a resumed try reports the settling
    # try's verdict).
    verdict = run.payload.get("status")
    print(json.dumps({"status": status, "verdict": verdict, **settled.to_dict()}))


if __name__ == "__main__":
    main()
