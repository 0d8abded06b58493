"""The fast INSERTs and id lists of notifications.bulk, and e-mails with shared MIME parts
(run on SQLite and on PostgreSQL, which take different paths)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.mail import EmailMultiAlternatives

from notifications import bulk, sources
from notifications.mime import SharedPartsEmail
from notifications.models import Delivery
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def _row(key: str, user_id: int, **kwargs) -> tuple:
    return sources.ledger_row(
        key=key,
        user_id=user_id,
        organisation_id=None,
        kind="session_reminder",
        channel="email",
        object_id=7,
        due_at=NOW,
        now=NOW,
        **kwargs,
    )


def test_it_inserts_rows_that_read_back_as_the_orm_wrote_them():
    user = UserFactory()
    rows = [
        _row("a", user.pk, data={"offset": 60, "name": "“quoted”, with \\ and \n"}),
        _row("b", user.pk, expires_at=NOW + dt.timedelta(hours=1), status="skipped", reason="x"),
    ]
    bulk.insert_rows(Delivery, sources.LEDGER_FIELDS, rows, conflict=["key"])
    a, b = Delivery.objects.order_by("key")
    assert a.data == {"offset": 60, "name": "“quoted”, with \\ and \n"}
    assert (a.due_at, a.expires_at, a.status, a.attempts, a.created_at) == (
        NOW,
        None,
        "pending",
        0,
        NOW,
    )
    assert (b.expires_at, b.status, b.last_error, b.data) == (
        NOW + dt.timedelta(hours=1),
        "skipped",
        "x",
        {},
    )


def test_it_leaves_a_key_already_there_alone_and_returns_only_new_rows():
    user = UserFactory()
    bulk.insert_rows(Delivery, sources.LEDGER_FIELDS, [_row("a", user.pk)], conflict=["key"])
    returned = bulk.insert_rows(
        Delivery,
        sources.LEDGER_FIELDS,
        [_row("a", user.pk, status="skipped"), _row("b", user.pk)],
        conflict=["key"],
        returning=["key", "id"],
    )
    assert returned == [("b", Delivery.objects.get(key="b").pk)]
    assert Delivery.objects.get(key="a").status == "pending"


def test_it_filters_by_a_list_of_ids_given_as_one_parameter():
    user = UserFactory()
    rows = [_row(str(i), user.pk) for i in range(5)]
    bulk.insert_rows(Delivery, sources.LEDGER_FIELDS, rows)
    pks = sorted(Delivery.objects.values_list("pk", flat=True))
    chosen = [pks[0], pks[3], None, pks[3]]
    assert sorted(
        Delivery.objects.filter(pk__in=bulk.ids(chosen)).values_list("pk", flat=True)
    ) == [
        pks[0],
        pks[3],
    ]
    assert not Delivery.objects.filter(pk__in=bulk.ids([])).exists()


def _email(cls, attachment: str):
    email = cls(
        subject="Reminder: “Tuesday circle”",
        body="Hello Ann,\n\nSee you there.\n",
        to=["ann@example.org"],
        headers={"Message-ID": "<x@peersupport.notifications>", "Date": "Tue, 10 Mar 2026"},
    )
    email.attach_alternative("<p>Hello Ann,</p>", "text/html")
    email.attach("session.ics", attachment, "text/calendar")
    return email


def test_e_mails_share_the_part_made_of_the_same_attachment_and_read_the_same():
    ics = "BEGIN:VCALENDAR\r\nSUMMARY:Tuesday circle\r\nEND:VCALENDAR\r\n"
    first = _email(SharedPartsEmail, ics).message()
    second = _email(SharedPartsEmail, ics).message()
    assert first.get_payload()[1] is second.get_payload()[1]
    assert (
        _email(SharedPartsEmail, ics + "X").message().get_payload()[1]
        is not (first.get_payload()[1])
    )

    def without_boundaries(message) -> bytes:
        return re.sub(rb"={15}\d+==", b"BOUNDARY", message.as_bytes())

    plain = _email(EmailMultiAlternatives, ics).message()
    assert without_boundaries(first) == without_boundaries(second) == without_boundaries(plain)
