"""Versioned caching of whole pages, per person, for the busiest pages.

A cached page is served only while none of the tables it was drawn from has changed:

- Every write to the database, from any process (web, Celery worker, beat, a management
  command), takes the next number of a counter shared in the cache and stamps the tables it
  writes with it. A wrapper on every database connection sees each INSERT, UPDATE or DELETE,
  so bulk updates, bulk inserts and raw SQL count as well as `save()`; a write whose table
  cannot be read from the SQL stamps EVERYTHING, which every page depends on. Tables are
  stamped right after the statement and again when its transaction commits: the first keeps
  a request's own writes visible to it at once (and tests, which never commit), the second
  covers pages drawn from the data as it was just before the commit.
- A request for a cached page reads the counter before it reads any data (first thing in
  `PageCacheMiddleware`, together with the page kept for it), then notes every table it
  reads while the person is signed in and the page drawn. The page is kept with the stamps
  of those tables, unless one of them is newer than the counter read at the start: then the
  data may have changed while the page was drawn, and it is not kept.
- A later request gets the kept page if the stamps of its tables are unchanged: two round
  trips to the cache in all.
- The key holds the person (or "anonymous"), their CSRF secret (so the forms in a page
  carry tokens that are theirs: nothing is shared between visitors), the language, the
  address with its query string and the current minute: text that changes with the clock
  ("today", "starts in 10 minutes", a join button) is at most a minute old, and entries
  expire soon after. (A person's time zone is theirs: a change to it is a write.)
- Never cached: anything but GET, htmx requests, a visitor without a CSRF cookie yet (their
  page sets one), answers other than 200, answers that set cookies, and pages drawn while
  there were messages ("Saved.") to show.

Only with a cache shared by every process (Redis): with the local-memory cache of the demo,
a worker's writes could not reach the web process's cache. Stamps are kept without an expiry,
so Redis must not evict such keys under memory pressure: its default (no limit) and the
volatile-* policies never do; an allkeys-* policy could serve a page as if a table written
since had not been. `settings.PAGE_CACHE` turns it on.
The authorization checks of a view (its decorators) run for every request; a page kept is
served only to the person it was drawn for, after those checks.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.session import SessionStorage
from django.core.cache import cache
from django.db import connection as default_connection
from django.db import transaction
from django.db.backends.signals import connection_created
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

ENTRY_SECONDS = 120
COUNTER_KEY = "pagecache:counter"
EVERYTHING = "*"
"""The table every page depends on: a write to it (SQL we cannot read) changes them all."""

_NAME = r'"?([A-Za-z_][A-Za-z0-9_]*)"?'
# A statement starting with WITH may write too: it counts as a write to everything.
_WRITE = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|REPLACE|TRUNCATE|MERGE|WITH)\b", re.I)
_WRITE_TABLE = re.compile(r"\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+" + _NAME, re.I)
_READ_TABLES = re.compile(r"\b(?:FROM|JOIN)\s+" + _NAME, re.I)
# Sessions are saved as people browse, and no page shows them; nor when someone last signed in.
_IGNORED = frozenset({"django_session"})
_SIGNED_IN = re.compile(
    r'\s*UPDATE\s+"?accounts_user"?\s+SET\s+"?last_login"?\s*=\s*%s\s+WHERE\b', re.I
)


def enabled() -> bool:
    return getattr(settings, "PAGE_CACHE", False)


def _stamp_key(table: str) -> str:
    return f"pagecache:table:{table}"


# --- writes: new stamps ------------------------------------------------------------------


def stamp(tables) -> None:
    """Make every cached page drawn from these tables out of date."""
    try:
        try:
            number = cache.incr(COUNTER_KEY)
        except ValueError:
            cache.add(COUNTER_KEY, 0, None)
            try:
                number = cache.incr(COUNTER_KEY)
            except ValueError:
                return  # the cache keeps nothing: it cannot be reached (it logs that itself)
        cache.set_many({_stamp_key(table): number for table in tables}, None)
    except Exception:  # noqa: BLE001 - a cache outage must never fail a write
        logger.warning("pagecache.stamp_failed", exc_info=True)


def written_tables(sql: str) -> set[str]:
    """The tables a statement writes (none for a read; EVERYTHING when unclear)."""
    if not _WRITE.match(sql) or _SIGNED_IN.match(sql):
        return set()
    found = _WRITE_TABLE.match(sql)
    if found is None:
        return {EVERYTHING}
    return {found.group(1)} - _IGNORED


class _AtCommit:
    """The tables a connection's open transaction wrote, stamped again when it commits."""

    def __init__(self) -> None:
        self.tables: set[str] = set()

    def __call__(self) -> None:
        tables, self.tables = self.tables, set()
        if tables:
            stamp(tables)


def _track_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if enabled() and isinstance(sql, str):
        tables = written_tables(sql)
        if tables:
            connection = context["connection"]
            stamp(tables)
            if connection.in_atomic_block:
                _at_commit(connection, tables)
    return result


def _at_commit(connection, tables: set[str]) -> None:
    at_commit = connection.__dict__.setdefault("_pagecache_at_commit", _AtCommit())
    at_commit.tables |= tables
    # Once per transaction (a rolled back savepoint takes its callbacks with it).
    if not any(func is at_commit for _savepoints, func, _robust in connection.run_on_commit):
        transaction.on_commit(at_commit, using=connection.alias)


def _on_connection(sender, connection, **kwargs) -> None:
    if _track_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_track_writes)


def install() -> None:
    """Watch every database connection this process opens for writes (while enabled)."""
    connection_created.connect(_on_connection, dispatch_uid="pagecache.track_writes")


def _stamps(tables) -> dict[str, int]:
    """Each table's stamp (0 for a table never written while the cache has been up)."""
    found = cache.get_many([_stamp_key(table) for table in tables])
    return {table: int(found.get(_stamp_key(table), 0)) for table in tables}


# --- a request for a cached page ---------------------------------------------------------


def cached_page(view):
    """Mark a view whose pages PageCacheMiddleware may keep and serve (see the module)."""
    view.pagecache = True
    return view


class PageCacheMiddleware:
    """Serve a kept page, or draw it and keep it, for a GET of a view marked `cached_page`.

    Goes after the session, locale and CSRF middleware and before authentication: a kept
    page is served without signing the person in again, loading their roles or running the
    view. That is safe because the page is kept for one signed-in person (the user id and the
    whole of the session are in its key: only the holder of that session gets it), and
    everything those checks read (the user, their roles, memberships, two-step sign-in) is
    among the tables whose stamps must be unchanged. The response kept is the one the
    middleware after this one produced, headers included.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not enabled() or request.method != "GET" or not _for_cached_view(request):
            return self.get_response(request)
        key = _key(request)
        if key is None:
            return self.get_response(request)
        try:
            found = cache.get_many([COUNTER_KEY, key])
            entry = found.get(key)
            if entry is not None and _stamps(entry["stamps"]) == entry["stamps"]:
                return _from_entry(entry)
        except Exception:  # noqa: BLE001 - without the cache, draw the page
            logger.warning("pagecache.unavailable", exc_info=True)
            return self.get_response(request)
        start = int(found.get(COUNTER_KEY, 0))
        reads: set[str] = set()

        def note(execute, sql, params, many, context):
            if isinstance(sql, str):
                reads.update(_READ_TABLES.findall(sql))
            return execute(sql, params, many, context)

        with default_connection.execute_wrapper(note):
            response = self.get_response(request)
        if _storable(request, response):
            _store(key, start, reads, response)
        return response


def _for_cached_view(request) -> bool:
    # A request with its own URLconf is left alone (none here sets one).
    return not hasattr(request, "urlconf") and _cached_view_at(request.path_info)


@functools.lru_cache(maxsize=4096)
def _cached_view_at(path: str) -> bool:
    """Whether the view at this address is cached (kept per address: resolving takes time)."""
    try:
        return getattr(resolve(path).func, "pagecache", False)
    except Resolver404:
        return False


def _who(request) -> str:
    return str(request.session.get(SESSION_KEY, "anonymous"))


def _key(request) -> str | None:
    """The page's key, or None when it must be drawn: no CSRF cookie yet (the page sets
    one), an htmx request, or messages waiting to be shown."""
    secret = request.META.get("CSRF_COOKIE")
    session = request.session
    if (
        not secret
        or request.headers.get("HX-Request")
        or SessionStorage.session_key in session
        or CookieStorage.cookie_name in request.COOKIES
    ):
        return None
    who = _who(request)
    # Each person's minute starts at their own second, so that pages are not all drawn
    # again at once when the minute turns.
    offset = int(hashlib.blake2b(who.encode(), digest_size=1).digest()[0]) % 60
    minute = int((timezone.now().timestamp() + offset) // 60)
    raw = repr(
        (
            who,
            sorted((k, repr(v)) for k, v in session.items()),
            secret,
            get_language(),
            request.get_host(),
            request.get_full_path(),
            minute,
        )
    )
    return "pagecache:page:" + hashlib.sha256(raw.encode()).hexdigest()


def _storable(request, response) -> bool:
    user = getattr(request, "user", None)
    signed_in_as = str(user.pk) if user is not None and user.is_authenticated else "anonymous"
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and signed_in_as == _who(request)
        and not request.session.modified
    )


def _store(key: str, start: int, reads: set[str], response) -> None:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    try:
        stamps = _stamps(reads | {EVERYTHING})
        if max(stamps.values()) > start:
            return  # written since this request began: the page may mix old and new
        entry = {"stamps": stamps, "body": response.content, "headers": headers}
        cache.set(key, entry, ENTRY_SECONDS)
    except Exception:  # noqa: BLE001 - the page was drawn; keeping it is only a saving
        logger.warning("pagecache.not_stored", exc_info=True)


def _from_entry(entry: dict) -> HttpResponse:
    response = HttpResponse(entry["body"])
    for name, value in entry["headers"].items():
        response[name] = value
    return response
