"""Real Celery processes (worker, beat) for tests, against pytest's own test database.

Used by the worker tests of several apps and by the browser journeys. A process gets the test
database's URL, e-mail written to files in the test's folder, and its own VAR_DIR; it logs to
a file, and `stop()` ends its whole process group. Use it from `transaction=True` tests, so the
subprocess sees what the test commits. Tests poll with `wait_until`, never sleep.
"""

from __future__ import annotations

import email
import email.message
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float = 60.0, interval: float = 0.2) -> T:
    """Call `check` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {check.__doc__ or check}")


def database_url() -> str:
    """The URL of the database this test runs against (pytest's test database)."""
    from django.db import connection

    s = connection.settings_dict
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{host}/{s['NAME']}"


def flush_broker() -> None:
    """Drop tasks that earlier tests queued for nobody, so a new worker does not run them."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def celery_env(folder: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(folder / "mail"),
        "DB_CONN_MAX_AGE": "0",
        "VAR_DIR": str(folder / "var"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **(extra or {}),
    }


class CeleryProcess:
    """`celery -A peersupport <command>` in its own process group, logging to a file."""

    command: list[str] = []
    ready_text = ""

    def __init__(
        self,
        folder: Path,
        name: str,
        *,
        args: list[str] | None = None,
        env: dict[str, str] | None = None,
        wait: bool = True,
    ):
        self.name = name
        self.log_path = folder / f"{name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "peersupport", *self.command, *(args or [])],
            cwd=ROOT,
            env=celery_env(folder, env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            self.wait_ready()

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_ready(self, timeout: float = 60.0) -> None:
        def ready():
            """the Celery process to start"""
            assert self.process.poll() is None, f"{self.name} stopped:\n{self.output()}"
            return self.ready_text in self.output()

        wait_until(ready, timeout=timeout)

    def assert_running(self) -> None:
        assert self.process.poll() is None, f"{self.name} stopped:\n{self.output()}"

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


class Worker(CeleryProcess):
    """A worker; by default a solo pool (one task at a time, in order)."""

    ready_text = "ready."

    def __init__(self, folder: Path, name: str = "worker", *, pool: str = "solo", **kwargs):
        self.command = [
            "worker",
            f"--pool={pool}",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}@%h",
        ]
        super().__init__(folder, name, **kwargs)


class Beat(CeleryProcess):
    """Celery beat with the project's schedule (its schedule file lives in the test's VAR_DIR)."""

    command = ["beat", "--loglevel=INFO"]
    ready_text = "beat: Starting"


def sent_mail(folder: Path) -> list[email.message.Message]:
    """Messages the file e-mail backend wrote into `folder`, oldest file first."""
    messages: list[email.message.Message] = []
    if not folder.exists():
        return messages
    for path in sorted(folder.iterdir(), key=lambda p: p.stat().st_mtime):
        # The file backend writes several messages per file, separated by a line of dashes.
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk.strip()))
    return messages
