"""`sahakum serve` starts its merger processes at a lower CPU priority than the web workers."""

from __future__ import annotations

import os
import subprocess
import sys

from server.serving import MERGER_NICENESS, lower_priority

REPORT_NICE = [sys.executable, "-c", "import os; print(os.getpid(), os.nice(0))"]


def test_lower_priority__the_command_runs_nicer_and_keeps_its_pid() -> None:
    proc = subprocess.Popen(lower_priority(REPORT_NICE, 7), stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=60)
    pid, nice = (int(x) for x in out.split())
    # nice(1) execs in place: the pool watching proc.pid watches the merger itself.
    assert pid == proc.pid
    assert nice == os.nice(0) + 7


def test_lower_priority__zero__leaves_the_command_alone() -> None:
    assert lower_priority(REPORT_NICE, 0) == REPORT_NICE


def test_lower_priority__default_is_the_merger_niceness() -> None:
    assert lower_priority(REPORT_NICE)[-len(REPORT_NICE):] == REPORT_NICE
    assert lower_priority(REPORT_NICE)[1:3] == ["-n", str(MERGER_NICENESS)]
