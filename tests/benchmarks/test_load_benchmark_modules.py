"""The load benchmark's scripts import and format their result lines (they are not run here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

LOAD = Path(__file__).resolve().parents[2] / "benchmarks" / "load"


def _load(name: str):
    sys.path.insert(0, str(LOAD))
    try:
        spec = importlib.util.spec_from_file_location(f"load_benchmark_{name}", LOAD / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(LOAD))


def test_it_imports_the_seed_run_and_profile_scripts():
    for name in ("common", "seed", "run", "profile_pages"):
        assert callable(getattr(_load(name), "main", None)) or name == "common"


def test_it_uses_its_own_database_and_redis_databases():
    common = _load("common")
    assert common.DATABASE_URL.endswith("/ps_load")
    assert common.CELERY_BROKER_URL.endswith("/12") and common.REDIS_URL.endswith("/13")


def test_it_ends_with_one_line_per_page_in_the_agreed_form(capsys):
    run = _load("run")
    results = [
        run.Result("trivial", 50, 800.0, 20, 60, 90, 24000, 0, 9.0, 31.0),
        run.Result("directory", 50, 400.0, 50, 120, 200, 12000, 0, 6.0, 31.0),
    ]
    run.report(results, cores=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "load page=directory users=50 rps=400.0 p95_ms=120 errors=0 ratio=0.50"


def test_it_computes_the_same_totp_codes_as_allauth():
    from allauth.mfa.totp.internal.auth import validate_totp_code

    run = _load("run")
    common = _load("common")
    assert validate_totp_code(common.TOTP_SECRET, run.totp_code(common.TOTP_SECRET))
