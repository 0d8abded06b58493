"""The reminders benchmark runs end to end at a small size: two racing sending processes, every
batch handed out twice, and still no message twice (its own throwaway SQLite database)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_sends_a_small_day_once_and_ends_with_its_result_line():
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "VAR_DIR")}
    run = subprocess.run(
        [sys.executable, "benchmarks/reminders.py", "--members", "200", "--sessions", "20"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    last = run.stdout.strip().splitlines()[-1]
    found = re.fullmatch(
        r"reminders members=200 sessions=20 sent=(\d+) duplicates=(\d+) seconds=[\d.]+ "
        r"queries_per_batch=(\d+)",
        last,
    )
    assert found, run.stdout
    sent, duplicates, _queries = map(int, found.groups())
    # An hour-before reminder by e-mail and in the app for every member (and the day-before
    # one for the last session, due as the day begins).
    assert sent == 2 * 200 + 2 * 10
    assert duplicates == 0
