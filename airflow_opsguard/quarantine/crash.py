"""Crash points: let a test kill the process between two steps of a quarantine.

The guarantees (no row lost or duplicated when the process dies halfway) are tested by
killing a real process at a named point. Set ``OPSGUARD_CRASH_AT`` to a point's name and
the process sends itself SIGKILL when it gets there: no cleanup, no ``finally``, as when
a worker is killed. Unset (always, in production), a crash point does nothing.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "OPSGUARD_CRASH_AT"


def crash_point(name: str) -> None:
    """Die here, at once, when ``$OPSGUARD_CRASH_AT`` names this point."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
