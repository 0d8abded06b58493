"""Load what Django otherwise loads on a process's first requests, before it takes any.

Gunicorn preloads the application in its master and forks the workers from it, and replaces
each worker after GUNICORN_MAX_REQUESTS requests. Without this, every new worker imported
every view (about a second of CPU) and compiled each template on its first requests, so
replacing workers under load stalled the site for seconds.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils import translation

from peersupport.nav import LOCAL_APPS

logger = logging.getLogger(__name__)


def template_names() -> list[str]:
    """Every template of the project's own folders and apps (not third-party ones)."""
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [Path(apps.get_app_config(app).path) / "templates" for app in LOCAL_APPS]
    names = set()
    for folder in folders:
        if folder.is_dir():
            names.update(
                path.relative_to(folder).as_posix()
                for path in folder.rglob("*")
                if path.is_file() and path.suffix in {".html", ".txt", ".ics", ".xml"}
            )
    return sorted(names)


def warm_up() -> int:
    """Import every view and compile the project's templates; return how many compiled.

    Nothing here connects to a server: connections opened before the fork would be shared.
    """
    resolver = get_resolver()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            resolver.reverse_dict  # noqa: B018 - imports every view and builds reverse()'s table
    # Making the cache backends imports their client libraries (redis-py); nothing connects.
    caches.all()
    engine = engines["django"]
    compiled = 0
    for name in template_names():
        try:
            engine.get_template(name)
        except TemplateSyntaxError:
            # A broken template fails its own page (and its tests), not the whole server.
            logger.exception("template.broken", extra={"template": name})
            continue
        compiled += 1
    return compiled
