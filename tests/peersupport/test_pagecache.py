"""Whole-page caching: served only to the same person while the data is unchanged."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
import time_machine
from django.contrib import messages
from django.contrib.messages.storage.session import SessionStorage
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.models import Group, GroupSession
from peersupport import pagecache
from tests import factories
from tests.groups.factories import GroupFactory, MembershipFactory
from tests.worker import ROOT, database_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    settings.PAGE_CACHE = True


@pytest.fixture
def group(programme):
    return GroupFactory(programme=programme, name="Tuesday walkers")


@pytest.fixture
def member(group):
    return MembershipFactory(group=group).user


def _get(client, url, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def _visit(client, user, url):
    """Sign in and open a page once, so the visitor has a CSRF cookie as a browser would."""
    client.force_login(user)
    client.get(reverse("groups:list"))
    return _get(client, url)


def test_a_second_visit_is_served_from_the_cache_with_fewer_queries(client, member, group):
    url = reverse("groups:detail", args=[group.pk])
    first, drawn = _visit(client, member, url)
    second, served = _get(client, url)
    assert second == first
    assert served < drawn


def test_one_person_never_gets_the_page_drawn_for_another(client, member, group):
    other_programme = factories.ProgrammeFactory()
    theirs = GroupFactory(programme=other_programme, name="Thursday painters")
    someone_else = MembershipFactory(group=theirs).user
    url = reverse("groups:my_sessions")
    for group_ in (group, theirs):
        GroupSession.objects.create(
            group=group_,
            occurrence_date=timezone.localdate() + dt.timedelta(days=2),
            starts_at=timezone.now() + dt.timedelta(days=2),
            ends_at=timezone.now() + dt.timedelta(days=2, hours=1),
        )
    mine, _ = _visit(client, member, url)
    mine_again, _ = _get(client, url)
    client.logout()
    theirs_page, _ = _visit(client, someone_else, url)
    assert "Tuesday walkers" in mine and "Thursday painters" not in mine
    assert "Tuesday walkers" not in theirs_page and "Thursday painters" in theirs_page
    assert mine_again == mine


def test_a_coordinator_and_a_member_on_the_same_address_get_their_own_page(
    client, coordinator, member, group
):
    url = reverse("groups:detail", args=[group.pk])
    as_member, _ = _visit(client, member, url)
    client.logout()
    as_coordinator, _ = _visit(client, coordinator, url)
    assert as_member != as_coordinator
    assert reverse("groups:manage", args=[group.pk]) in as_coordinator
    assert reverse("groups:manage", args=[group.pk]) not in as_member


def _renamed(client, url, rename) -> str:
    _get(client, url)
    rename()
    page, _ = _get(client, url)
    return page


@pytest.mark.parametrize(
    "rename",
    [
        pytest.param(
            lambda group: Group.objects.filter(pk=group.pk).update(name="Renamed group"),
            id="queryset-update",
        ),
        pytest.param(
            lambda group: _raw_rename(group),
            id="raw-sql",
        ),
        pytest.param(
            lambda group: _rename_in_a_savepoint(group),
            id="inside-a-transaction",
        ),
    ],
)
def test_any_write_makes_the_cached_page_out_of_date(client, member, group, rename):
    url = reverse("groups:detail", args=[group.pk])
    _visit(client, member, url)
    page = _renamed(client, url, lambda: rename(group))
    assert "Renamed group" in page


def _raw_rename(group):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Group._meta.db_table} SET name = %s WHERE id = %s",  # noqa: S608 - our own table name
            ["Renamed group", group.pk],
        )


def _rename_in_a_savepoint(group):
    with transaction.atomic():
        Group.objects.filter(pk=group.pk).update(name="Renamed group")


def test_a_bulk_insert_makes_the_cached_page_out_of_date(client, member, group):
    url = reverse("groups:my_sessions")
    _visit(client, member, url)
    before, _ = _get(client, url)
    starts = timezone.now() + dt.timedelta(days=3)
    GroupSession.objects.bulk_create(
        [
            GroupSession(
                group=group,
                occurrence_date=starts.date(),
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
            )
        ]
    )
    after, _ = _get(client, url)
    assert after != before
    assert "Tuesday walkers" in after


def test_a_page_is_kept_for_what_the_session_holds(client, member, group):
    url = reverse("groups:detail", args=[group.pk])
    _page, drawn = _visit(client, member, url)
    _page, served = _get(client, url)
    session = client.session
    session["referral"] = 7
    session.save()
    _page, redrawn = _get(client, url)
    _page, served_again = _get(client, url)
    assert served == served_again < redrawn


def test_a_page_showing_a_message_is_neither_served_from_nor_kept_in_the_cache(
    client, member, group, settings
):
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
    url = reverse("groups:detail", args=[group.pk])
    _visit(client, member, url)
    cached, _ = _get(client, url)
    session = client.session
    storage_request = RequestFactory().get("/")
    storage_request.session = session
    storage = SessionStorage(storage_request)
    storage.add(messages.SUCCESS, "Your place is saved.")
    storage.update(HttpResponse())
    session.save()
    shown, _ = _get(client, url)
    assert "Your place is saved." in shown
    assert shown != cached
    after, _ = _get(client, url)
    assert "Your place is saved." not in after


def test_a_new_csrf_cookie_is_a_different_page(client, member, group):
    url = reverse("groups:detail", args=[group.pk])
    _visit(client, member, url)
    _page, drawn = _get(client, url)
    _page, served = _get(client, url)
    client.cookies["csrftoken"] = "b" * 32
    _page, redrawn = _get(client, url)
    assert served < redrawn


def test_a_visitor_without_a_csrf_cookie_always_gets_a_fresh_page(client, member, group):
    client.force_login(member)
    url = reverse("groups:detail", args=[group.pk])
    for _ in range(2):
        client.cookies.pop("csrftoken", None)
        response = client.get(url)
        assert response.status_code == 200
        assert "csrftoken" in response.cookies


def test_the_clock_moving_on_a_minute_draws_the_page_again(client, member, group):
    url = reverse("groups:detail", args=[group.pk])
    _visit(client, member, url)
    _page, served = _get(client, url)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        _page, redrawn = _get(client, url)
    assert served < redrawn


def test_htmx_requests_are_never_served_from_the_cache(client, member, group):
    url = reverse("groups:detail", args=[group.pk])
    _visit(client, member, url)
    _page, served = _get(client, url)
    _page, htmx = _get(client, url, HTTP_HX_REQUEST="true")
    assert served < htmx


def test_only_successful_answers_are_kept(client, member):
    hidden = GroupFactory(programme=factories.ProgrammeFactory())
    url = reverse("groups:detail", args=[hidden.pk])
    client.force_login(member)
    client.get(reverse("groups:list"))
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 404
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_page_drawn_while_its_data_changed_is_not_kept():
    key = "pagecache:page:test"
    # Another process writes the table after this request read the counter (0)...
    pagecache.stamp({"groups_group"})
    pagecache._store(key, 0, {"groups_group"}, HttpResponse("maybe old"))
    assert pagecache.cache.get(key) is None
    # ...while a page begun after that write is kept.
    start = pagecache.cache.get(pagecache.COUNTER_KEY)
    pagecache._store(key, start, {"groups_group"}, HttpResponse("current"))
    assert pagecache.cache.get(key)["body"] == b"current"


def test_pages_still_work_when_the_cache_is_down(client, member, group, monkeypatch):
    url = reverse("groups:detail", args=[group.pk])
    _visit(client, member, url)

    def broken(*args, **kwargs):
        raise ConnectionError("cache is down")

    monkeypatch.setattr(pagecache.cache, "get_many", broken)
    page, _ = _get(client, url)
    assert "Tuesday walkers" in page


def test_turned_off_every_page_is_drawn(client, member, group, settings):
    settings.PAGE_CACHE = False
    url = reverse("groups:detail", args=[group.pk])
    _visit(client, member, url)
    _page, first = _get(client, url)
    _page, second = _get(client, url)
    assert first == second


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_write_from_another_process_makes_the_cached_page_out_of_date(
    client, member, group, tmp_path
):
    url = reverse("groups:detail", args=[group.pk])
    _visit(client, member, url)
    _get(client, url)
    script = (
        "import django; django.setup()\n"
        "from groups.models import Group\n"
        f"Group.objects.filter(pk={group.pk}).update(name='Renamed elsewhere')\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "peersupport.settings",
        "PAGE_CACHE": "true",
        "VAR_DIR": str(tmp_path),
    }
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, timeout=120)
    page, _ = _get(client, url)
    assert "Renamed elsewhere" in page


def test_a_write_to_a_table_the_page_does_not_show_keeps_it(client, member, group):
    from notifications.models import DispatchMark

    url = reverse("groups:detail", args=[group.pk])
    _page, drawn = _visit(client, member, url)
    _page, served = _get(client, url)
    DispatchMark.objects.create(name="elsewhere", planned_until=timezone.now())
    _page, served_after = _get(client, url)
    assert served_after == served < drawn


def test_signing_in_again_keeps_pages(client, member, group):
    url = reverse("groups:detail", args=[group.pk])
    _page, drawn = _visit(client, member, url)
    _page, served = _get(client, url)
    member.last_login = timezone.now()
    member.save(update_fields=["last_login"])
    _page, served_after = _get(client, url)
    assert served_after == served < drawn
