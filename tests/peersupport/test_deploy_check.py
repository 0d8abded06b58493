from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_passes_djangos_deployment_checks_with_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "example.org",
        "VAR_DIR": str(tmp_path),
    }
    for name in (
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "DJANGO_SETTINGS_MODULE",
        # The browser tests set this for Django's live server; production never does.
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    ):
        env.pop(name, None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_it_refuses_to_start_in_production_without_a_secret_key(tmp_path):
    env = {**os.environ, "DJANGO_ENV": "production", "ALLOWED_HOSTS": "example.org"}
    env["VAR_DIR"] = str(tmp_path)
    env.pop("SECRET_KEY", None)

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
