"""Views and templates are loaded before a server process answers its first request."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from django.template import engines

from peersupport import warmup

ROOT = Path(__file__).resolve().parents[2]


def test_template_names_are_the_projects_own():
    names = warmup.template_names()
    assert "base.html" in names
    assert "groups/list.html" in names
    assert not [name for name in names if name.startswith("admin/")]


WSGI_PROBE = """
import sys
import peersupport.wsgi
from django.db import connections
from django.urls import get_resolver
print("groups.views" in sys.modules, "redis" in sys.modules)
print(get_resolver()._populated)
print(any(c.connection is not None for c in connections.all()))
"""


def test_the_wsgi_module_loads_views_and_templates_without_connecting():
    """A process forked from one that imported the WSGI module starts ready and unconnected."""
    nowhere = {  # nothing listens there: the import must not try to connect
        "DATABASE_URL": "postgres://nobody:nothing@127.0.0.1:1/nothing",
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
    }
    env = {**os.environ, **nowhere, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", WSGI_PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["True", "True", "True", "False"]


def test_warm_up_compiles_every_template():
    assert warmup.warm_up() == len(warmup.template_names())
    # The cached loader now answers from memory.
    loader = engines["django"].engine.template_loaders[0]
    assert any(key.startswith("base.html") for key in loader.get_template_cache)


def test_a_broken_template_is_logged_not_raised(monkeypatch, caplog):
    engine = engines["django"]
    original = engine.get_template

    def get_template(name):
        if name == "broken.html":
            return engine.from_string("{% if %}")
        return original(name)

    monkeypatch.setattr(warmup, "template_names", lambda: ["broken.html", "base.html"])
    monkeypatch.setattr(engine, "get_template", get_template)
    with caplog.at_level(logging.ERROR, logger="peersupport.warmup"):
        assert warmup.warm_up() == 1
    assert "template.broken" in caplog.text
