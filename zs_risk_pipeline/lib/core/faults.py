"""Fault injection for crash tests (故障注入): a process whose environment names a crash point dies there, the
way a SIGKILL or a power cut would end it (no cleanup, no finally). Used by the crash tests and by
bench/bench_crash.py; without the variable it does nothing.

Plain Python, no Dagster.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "ZS_RISK_CRASH_AT"
# Where a crash leaves the most to recover: between the steps of a publish and of a draw.
POINTS = (
    "publish:written",  # the version's file written aside, nothing logged
    "publish:logged",  # the entry logged (and signed), the file not yet in place
    "publish:placed",  # the version's file in place, not yet current
    "publish:current",  # current, the catalogue not rebuilt
    "publish:catalog",  # the catalogue rebuilt, the head not signed
    "draw:committed",  # the seed committed, the package not written
)


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
