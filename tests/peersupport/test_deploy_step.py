from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_deploy_module():
    spec = importlib.util.spec_from_file_location("prod_deploy", ROOT / "scripts/prod/deploy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_collects_static_files_again_only_when_a_source_changed(settings, tmp_path, capsys):
    deploy = load_deploy_module()
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "site.css").write_text("body { color: black; }")
    settings.STATICFILES_DIRS = [sources]
    settings.STATIC_ROOT = tmp_path / "collected"

    deploy.collect_static()
    assert (tmp_path / "collected" / "site.css").read_text() == "body { color: black; }"
    capsys.readouterr()

    deploy.collect_static()
    assert "Static files are up to date." in capsys.readouterr().out

    # An edit made later than the last collection (collectstatic compares whole seconds).
    (sources / "site.css").write_text("body { color: navy; background: white; }")
    later = time.time() + 5
    os.utime(sources / "site.css", (later, later))
    deploy.collect_static()
    assert "up to date" not in capsys.readouterr().out
    assert "navy" in (tmp_path / "collected" / "site.css").read_text()
