"""Start the production stack without Docker (scripts/prod.sh) and ask it if it is ready.

Needs PostgreSQL and Redis (the settings of the test run); uses the test database, which
already holds every migration, so `migrate` in the script has nothing to do.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
HAS_REDIS = os.environ.get("CELERY_BROKER_URL", "").startswith("redis://") and bool(
    os.environ.get("REDIS_URL")
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not HAS_REDIS, reason="needs Redis (CELERY_BROKER_URL and REDIS_URL)"),
    pytest.mark.django_db(transaction=True),
]


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "localhost"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def wait_for(predicate, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_it_starts_the_production_stack_and_stops_it(tmp_path):
    db = connection.settings_dict
    port = free_loopback_port()
    var_dir = tmp_path / "var"
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{quote(db['USER'])}:{quote(db['PASSWORD'])}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "VAR_DIR": str(var_dir),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
        "READY_TIMEOUT": "90",
        "SKIP_INSTALL": "1",
    }
    for name in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DJANGO_ENV", "DEBUG"):
        env.pop(name, None)
    script = [str(ROOT / "scripts" / "prod.sh")]

    try:
        started = subprocess.run(
            [*script, "start"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
        )
        assert started.returncode == 0, started.stdout + started.stderr

        status, headers, body = get(port, "/readyz?probe=from-the-test")
        assert status == 200
        assert json.loads(body) == {
            "status": "ok",
            "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
        }
        request_id = headers["X-Request-ID"]

        running = subprocess.run(
            [*script, "status"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
        )
        assert running.returncode == 0, running.stdout
        assert (var_dir / "prod" / "secret_key").stat().st_mode & 0o077 == 0

        web_log = var_dir / "prod" / "log" / "web.log"

        def access_line():
            for line in web_log.read_text().splitlines():
                if line.startswith("{") and request_id in line:
                    return json.loads(line)
            return None

        line = wait_for(access_line, seconds=10, what="the access log line")
        assert line["path"] == "/readyz"
        assert line["status"] == 200
        assert "from-the-test" not in web_log.read_text()
    finally:
        stopped = subprocess.run(
            [*script, "stop"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )

    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    after = subprocess.run(
        [*script, "status"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert after.returncode == 3
    assert after.stdout.count("stopped") == 3
