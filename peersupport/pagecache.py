"""Versioned caching of whole pages, per person, for the busiest pages.

A cached page is served only while nothing in the database has changed since it was drawn:

- Every write to the database, from any process (web, Celery worker, beat, a management
  command), sets a new *data version* in the shared cache. A wrapper on every database
  connection sees each INSERT, UPDATE or DELETE, so bulk updates, bulk inserts and raw SQL
  count as well as `save()`. It sets the version right after the statement and again when
  the transaction commits: the first keeps a request's own writes visible to it at once (and
  tests, which never commit), the second stops a page drawn from the data as it was before
  the commit from being kept under the version set before the commit.
- A page is kept together with the version it was drawn under and used only while that is
  still the version (one round trip to the cache reads both).
- The key holds the person (or "anonymous"), their CSRF secret (so the forms in a page
  carry tokens that are theirs: nothing is shared between visitors), the language, the
  time zone, the address with its query string and the current minute: text that changes
  with the clock ("today", "starts in 10 minutes", a join button) is at most a minute old,
  and entries expire soon after.
- Never cached: anything but GET, htmx requests, a visitor without a CSRF cookie yet (their
  page sets one), answers other than 200, answers that set cookies, and pages drawn while
  there were messages ("Saved.") to show.

Only with a cache shared by every process (Redis): with the local-memory cache of the demo,
a worker's writes could not reach the web process's cache. `settings.PAGE_CACHE` turns it on.
The authorization checks of a view (its decorators) run for every request; a hit skips only
the drawing of the page, and only for the person it was drawn for.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import secrets

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

VERSION_KEY = "pagecache:version"
ENTRY_SECONDS = 120
# A statement starting with WITH may write too: counted, to be safe.
_WRITE = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE|TRUNCATE|MERGE|WITH)\b", re.IGNORECASE)
# Sessions are saved as people browse and change nothing any page shows.
_IGNORED = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?django_session"?', re.I)


def enabled() -> bool:
    return getattr(settings, "PAGE_CACHE", False)


# --- the data version -------------------------------------------------------------------


def new_version() -> None:
    """Make every cached page out of date."""
    try:
        cache.set(VERSION_KEY, secrets.token_hex(8), None)
    except Exception:  # noqa: BLE001 - a cache outage must never fail a write
        logger.warning("pagecache.version_not_set", exc_info=True)


def _is_write(sql: str) -> bool:
    return bool(_WRITE.match(sql)) and not _IGNORED.match(sql)


def _track_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if enabled() and isinstance(sql, str) and _is_write(sql):
        connection = context["connection"]
        new_version()
        if connection.in_atomic_block and not any(
            func is new_version for _savepoints, func, _robust in connection.run_on_commit
        ):
            transaction.on_commit(new_version, using=connection.alias)
    return result


def _on_connection(sender, connection, **kwargs) -> None:
    if _track_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_track_writes)


def install() -> None:
    """Watch every database connection this process opens for writes (while enabled)."""
    connection_created.connect(_on_connection, dispatch_uid="pagecache.track_writes")


# --- the decorator -----------------------------------------------------------------------


def _key(request) -> str:
    user = request.user
    who = str(user.pk) if user.is_authenticated else "anonymous"
    minute = int(timezone.now().timestamp() // 60)
    raw = "|".join(
        [
            who,
            request.META["CSRF_COOKIE"],
            get_language() or "",
            timezone.get_current_timezone_name(),
            request.get_full_path(),
            str(minute),
        ]
    )
    return "pagecache:page:" + hashlib.sha256(raw.encode()).hexdigest()


def _cacheable_request(request) -> bool:
    return (
        request.method == "GET"
        and request.META.get("CSRF_COOKIE")
        and not request.headers.get("HX-Request")
        and not len(messages.get_messages(request))
    )


def _storable(request, response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not len(messages.get_messages(request))
    )


def cached_page(view):
    """Serve the page from the cache while the data it was drawn from is unchanged."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not enabled() or not _cacheable_request(request):
            return view(request, *args, **kwargs)
        key = _key(request)
        try:
            found = cache.get_many([VERSION_KEY, key])
            version = found.get(VERSION_KEY)
            if version is None:
                cache.add(VERSION_KEY, secrets.token_hex(8), None)
                version = cache.get(VERSION_KEY)
        except Exception:  # noqa: BLE001 - without the cache, draw the page
            logger.warning("pagecache.unavailable", exc_info=True)
            return view(request, *args, **kwargs)
        entry = found.get(key)
        if entry is not None and entry["version"] == version:
            return _from_entry(entry)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        if version is not None and _storable(request, response):
            _store(key, version, response)
        return response

    return wrapper


def _store(key: str, version: str, response) -> None:
    body = response.content
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    try:
        cache.set(key, {"version": version, "body": body, "headers": headers}, ENTRY_SECONDS)
    except Exception:  # noqa: BLE001 - the page was drawn; keeping it is only a saving
        logger.warning("pagecache.not_stored", exc_info=True)


def _from_entry(entry: dict) -> HttpResponse:
    response = HttpResponse(entry["body"])
    for name, value in entry["headers"].items():
        response[name] = value
    return response
