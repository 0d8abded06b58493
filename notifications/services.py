"""Planning, dispatching and sending notices, exactly once per ledger key; people's choices.

How a message is sent exactly once:

1. Planning inserts one `Delivery` row per (kind, object, person, offset, channel) with one
   `INSERT ... ON CONFLICT (key) DO NOTHING` run for each chunk: beat firing twice, or two
   dispatchers racing, insert nothing twice.
2. A send task claims rows with one conditional UPDATE (`status=pending -> sending`, a random
   claim token), then reads back only the rows carrying its token: two workers given the
   same ids never both get a row.
3. In-app notices are written in the same transaction that marks the rows sent, so they are
   exactly once outright.
4. E-mail and SMS leave the database, and no provider takes part in our transactions: an
   SMTP server or an HTTP API accepts a message, and only afterwards can we record that it
   did. Sending exactly once from our side alone is impossible (SMTP has the same gap between
   the end of DATA and the server's reply, RFC 1047); what we can do is keep the gap narrow,
   never lose a message, and make any repeat recognisable as the same message:

   - A row is marked sent only after its provider accepted it, never before, so a crash
     loses nothing: rows not yet marked stay `sending` with the dead worker's claim, and
     after `LEASE` the dispatcher puts them back to be sent again.
   - Every copy of a message carries the same identity derived from the ledger key: a
     fixed `Message-ID` on e-mail, an `Idempotency-Key` header on SMS. A repeat after a
     crash is therefore detectable: providers and mail programs that de-duplicate on them
     drop it, and a person's mail program threads it with the first copy.
   - The only rows that can go twice are those accepted by the provider but not yet
     marked when the worker died. Texts are marked one by one (a text costs money and is
     intrusive twice, and the provider's HTTP call takes far longer than the UPDATE), so a
     crash repeats at most the one text in flight. E-mails are marked with one UPDATE per
     `NOTIFICATIONS_SENT_FLUSH_EVERY` accepted (default 25) and the rest in the batch's last
     transaction, so a full batch runs the same small number of queries, not one more per
     e-mail; a crash can repeat at most that many e-mails, each with the Message-ID of its
     first copy.
   - Everything else the crash interrupts (skips, deferrals, in-app notices) was not yet
     written, and is decided afresh when the rows come back.

   Beat firing twice, two workers racing and retries after provider errors repeat nothing:
   only a worker dying between a provider's accept and the UPDATE does, as above.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import heapq
import logging
import secrets
import smtplib
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from . import bulk, sms, sources
from .mime import SharedPartsEmail
from .models import (
    ALWAYS_ON_KINDS,
    Channel,
    Delivery,
    DispatchMark,
    Kind,
    Notification,
    NotificationPreference,
    OrganisationNotificationSettings,
    referral_delivery_key,
)

logger = logging.getLogger(__name__)

Status = Delivery.Status


def _setting(name: str, default):
    return getattr(settings, name, default)


def batch_size() -> int:
    return _setting("NOTIFICATIONS_BATCH_SIZE", 200)


def max_attempts() -> int:
    return _setting("NOTIFICATIONS_MAX_ATTEMPTS", 5)


LEASE = dt.timedelta(minutes=10)
REQUEUE_AFTER = dt.timedelta(minutes=10)
# Each run also looks again at the last moments before the previous run's end, for rows
# whose transaction committed just after that run read (a web request's transaction takes
# seconds). Everything in the overlap is planned again and ignored by the unique key, so a
# wide overlap costs work on every run (beat runs every minute): two minutes is plenty.
PLAN_OVERLAP = dt.timedelta(minutes=2)
MAX_CATCH_UP = dt.timedelta(days=7)
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
UNSUBSCRIBE_MAX_AGE = 60 * 60 * 24 * 365


class NotificationError(ValidationError):
    """A request about notifications that cannot be done."""


class BadUnsubscribeLink(NotificationError):
    pass


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8... minutes after each failed try, at most an hour."""
    return dt.timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 3600))


# --- dispatching -------------------------------------------------------------------------


@dataclass
class DispatchResult:
    planned: int = 0
    requeued: int = 0
    batches: list[list[int]] = field(default_factory=list)


def plan_due(*, now: dt.datetime, handed_out: list | None = None) -> int:
    """Insert ledger rows for everything whose moment fell since the last run.

    With `handed_out`, new rows that are already due are inserted marked as handed to a
    worker, and their (due_at, id) added to the list for the caller to hand out: the same as
    `due_batches` finding and marking them, without a second write to every row.
    """
    mark, _created = DispatchMark.objects.get_or_create(
        name="planner",
        defaults={"planned_until": now - dt.timedelta(minutes=sources.MAX_OFFSET)},
    )
    since = max(mark.planned_until - PLAN_OVERLAP, now - MAX_CATCH_UP)
    planned = 0
    for planner in sources.PLANNERS:
        for chunk in planner(since=since, now=now):
            if handed_out is None:
                ledger_insert(chunk)
            else:
                handed_out += _ledger_insert_handed_out(chunk, now=now)
            planned += len(chunk)
    DispatchMark.objects.filter(name="planner", planned_until__lt=now).update(planned_until=now)
    return planned


def ledger_insert(rows: list[tuple]) -> None:
    """Add planned rows (sources.LEDGER_FIELDS tuples); a key already there is left alone."""
    bulk.insert_rows(Delivery, sources.LEDGER_FIELDS, rows, conflict=["key"])


_STATUS = sources.LEDGER_FIELDS.index("status")
_DUE_AT = sources.LEDGER_FIELDS.index("due_at")


def _ledger_insert_handed_out(rows: list[tuple], *, now: dt.datetime) -> list[tuple]:
    """As ledger_insert, with due pending rows marked handed out (enqueued_at); returns
    (due_at, id) of those that were new: a key planned before is not handed out again."""
    due_at_of = {}
    marked = []
    for row in rows:
        handed = row[_STATUS] == Status.PENDING and row[_DUE_AT] <= now
        if handed:
            due_at_of[row[0]] = row[_DUE_AT]
        marked.append((*row, now if handed else None))
    inserted = bulk.insert_rows(
        Delivery,
        (*sources.LEDGER_FIELDS, "enqueued_at"),
        marked,
        conflict=["key"],
        returning=["key", "id"],
    )
    return [(due_at_of[key], pk) for key, pk in inserted if key in due_at_of]


def requeue_stale_claims(*, now: dt.datetime) -> int:
    """Rows a worker claimed but never finished (it died): try again, or give up."""
    stale = Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - LEASE)
    # One look at the index every run (there is rarely anything), the UPDATEs only when needed.
    found = list(stale.values_list("pk", "attempts"))
    if not found:
        return 0
    limit = max_attempts()
    stale.filter(pk__in=bulk.ids(pk for pk, attempts in found if attempts >= limit)).update(
        status=Status.FAILED, last_error="worker stopped while sending"
    )
    return stale.filter(pk__in=bulk.ids(pk for pk, attempts in found if attempts < limit)).update(
        status=Status.PENDING, enqueued_at=None
    )


def due_batches(
    *, now: dt.datetime, limit: int = 100_000, handed_out: list | None = None
) -> list[list[int]]:
    """Ids of due rows not recently handed to a worker, in batches; marks them enqueued.

    `handed_out` are (due_at, id) of rows already marked (see plan_due), to add in order:
    rows due at the same moment (one session's reminders) stay together in a batch.
    """
    found = list(
        Delivery.objects.due(now)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=now - REQUEUE_AFTER))
        .order_by("due_at", "pk")
        .values_list("due_at", "pk")[:limit]
    )
    for start in range(0, len(found), 5000):
        chunk = [pk for _due_at, pk in found[start : start + 5000]]
        Delivery.objects.filter(pk__in=bulk.ids(chunk)).update(enqueued_at=now)
    ids = [pk for _due_at, pk in heapq.merge(sorted(handed_out or []), found)]
    size = batch_size()
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def dispatch(*, now: dt.datetime | None = None) -> DispatchResult:
    """Plan what is due, recover abandoned claims, and return due ids in batches."""
    now = now or timezone.now()
    result = DispatchResult()
    handed_out: list[tuple[dt.datetime, int]] = []
    result.planned = plan_due(now=now, handed_out=handed_out)
    result.requeued = requeue_stale_claims(now=now)
    result.batches = due_batches(now=now, handed_out=handed_out)
    logger.info(
        "notifications.dispatched",
        extra={"planned": result.planned, "batches": len(result.batches)},
    )
    return result


def plan_digests(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    rows = sources.plan_coordinator_digests(now=now)
    ledger_insert(rows)
    return len(rows)


def referral_messages_plan(*, referral, now: dt.datetime | None = None) -> None:
    """Plan a named referral's invitation and its one reminder, by e-mail and/or text, in the
    caller's transaction; the invitation is handed to a worker once that commits."""
    from .tasks import enqueue_batches

    now = now or timezone.now()
    rows = sources.plan_referral_messages(referral=referral, now=now)
    ledger_insert(rows)
    invitations = Delivery.objects.filter(
        key__in=[row[0] for row in rows if row[3] == Kind.REFERRAL_INVITATION],
        status=Status.PENDING,
    )
    ids = list(invitations.order_by("pk").values_list("pk", flat=True))
    if ids:
        # Marked as handed out, so the dispatcher leaves them to this task unless it is lost.
        Delivery.objects.filter(pk__in=ids).update(enqueued_at=now)
        enqueue_batches([ids])


def matching_notice_deliver(*, notice, now: dt.datetime | None = None) -> BatchResult:
    """Deliver one of the matching app's notices now, on the person's own channels (e-mail with
    an unsubscribe link, text, the bell), once per notice and channel: as BUDDY_NEWS, or as a
    STAFF_ALERT that cannot be muted when it warns coordinators about a pairing."""
    now = now or timezone.now()
    user = notice.user
    kind = Kind.STAFF_ALERT if notice.audience == "staff" else Kind.BUDDY_NEWS
    planned = sources.Planned(
        sources.Person(user.pk, user.email, user.phone),
        key=f"{kind}:{notice.pk}",
        organisation_id=None,
        object_id=notice.pk,
        due_at=now,
        expires_at=now + dt.timedelta(days=7),
    )
    rows = sources.ledger_rows(kind, [planned], now)
    ledger_insert(rows)
    ids = list(
        Delivery.objects.filter(key__in=[row[0] for row in rows], status=Status.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return send_batch(ids=ids, now=now)


# --- sending -----------------------------------------------------------------------------


@dataclass
class BatchResult:
    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


class TemporaryError(Exception):
    pass


def _is_temporary(error: Exception) -> bool:
    if isinstance(error, sms.SmsTemporaryError):
        return True
    if isinstance(error, sms.SmsPermanentError):
        return False
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return False
    try:
        from anymail.exceptions import AnymailRecipientsRefused

        if isinstance(error, AnymailRecipientsRefused):
            return False
    except ImportError:  # pragma: no cover
        pass
    return True


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    return signing.dumps({"u": user_id, "k": kind}, salt=UNSUBSCRIBE_SALT)


def message_id(delivery_key: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{delivery_key}".encode()).hexdigest()[:32]
    return f"<{digest}@peersupport.notifications>"


# Per site address, so a changed SITE_URL (tests) is not served from the cache.
@functools.cache
def _unsubscribe_url_pattern(site_url: str) -> str:
    return site_url + reverse("notifications:unsubscribe", args=["TOKEN"])


@functools.cache
def _preferences_url(site_url: str) -> str:
    return site_url + reverse("notifications:preferences")


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    if kind in ALWAYS_ON_KINDS:
        # Nothing to unsubscribe from: link to the person's choices instead.
        return _preferences_url(settings.SITE_URL)
    token = unsubscribe_token(user_id=user_id, kind=kind)
    return _unsubscribe_url_pattern(settings.SITE_URL).replace("TOKEN", token)


NAME_MARK = "\x00name\x00"
UNSUBSCRIBE_MARK = "\x00unsubscribe\x00"


def _render_bodies(kind: str, message: sources.Message) -> tuple[str, str]:
    """Text and HTML bodies with markers for the person's name and unsubscribe link, so a
    batch renders the templates once per distinct message, not once per person."""
    context = {
        "message": message,
        "url": sources.site_url(message.url),
        "person_name": NAME_MARK,
        "kind_label": Kind(kind).label,
        "unsubscribe_url": UNSUBSCRIBE_MARK,
        "preferences_url": _preferences_url(settings.SITE_URL),
    }
    return (
        render_to_string("notifications/email/message.txt", context),
        render_to_string("notifications/email/message.html", context),
    )


def build_email(
    delivery: Delivery, user, message: sources.Message, cache: dict | None = None
) -> EmailMultiAlternatives:
    unsubscribe = unsubscribe_url(user_id=user.pk, kind=delivery.kind)
    cache = {} if cache is None else cache
    key = message.cache_key or (
        delivery.kind,
        translation.get_language(),
        message.title,
        tuple(message.lines),
        message.url,
        message.action,
    )
    if key not in cache:
        cache[key] = _render_bodies(delivery.kind, message)
    text, html = cache[key]
    name = user.display_name or ""
    email = SharedPartsEmail(
        subject=message.title,
        body=text.replace(NAME_MARK, name).replace(UNSUBSCRIBE_MARK, unsubscribe),
        to=[user.email],
        headers=(
            {"Message-ID": message_id(delivery.key)}
            if delivery.kind in ALWAYS_ON_KINDS
            else {
                "List-Unsubscribe": f"<{unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "Message-ID": message_id(delivery.key),
            }
        ),
    )
    email.attach_alternative(
        html.replace(NAME_MARK, escape(name)).replace(UNSUBSCRIBE_MARK, escape(unsubscribe)),
        "text/html",
    )
    for name, content, mimetype in message.attachments:
        email.attach(name, content, mimetype)
    return email


def sms_body(message: sources.Message) -> str:
    text = message.title
    if message.url:
        text += " " + sources.site_url(message.url)
    return text[:450]


# Someone without an account has no quiet hours of their own: no texts at night, in the
# site's time zone.
NIGHT = NotificationPreference(quiet_start=dt.time(21), quiet_end=dt.time(8))


def _decide(delivery: Delivery, pref, source, now: dt.datetime) -> tuple[str, object]:
    """("send", None), ("skip", reason) or ("defer", until) for one claimed row."""
    if delivery.user_id is None:
        return _decide_without_account(delivery, source, now)
    user = delivery.user
    if delivery.expires_at is not None and delivery.expires_at <= now:
        return "skip", "stale: too late to be useful"
    if not user.is_active:
        return "skip", "person is not active"
    if not (pref or sources.DEFAULT_PREFERENCE).wants(delivery.kind, delivery.channel):
        return "skip", "person turned this off"
    if delivery.channel == Channel.EMAIL and not user.email:
        return "skip", "no e-mail address"
    if delivery.channel == Channel.SMS and not user.phone:
        return "skip", "no phone number"
    reason = source.skip_reason(delivery, pref, now)
    if reason:
        return "skip", reason
    if delivery.channel == Channel.SMS and pref is not None:
        until = pref.quiet_until(now, user.tzinfo)
        if until is not None:
            if delivery.expires_at is not None and until >= delivery.expires_at:
                return "skip", "quiet hours"
            return "defer", until
    return "send", None


def _decide_without_account(delivery: Delivery, source, now: dt.datetime) -> tuple[str, object]:
    """A referred person: no preferences; the source knows the address and when it is time."""
    if delivery.expires_at is not None and delivery.expires_at <= now:
        return "skip", "stale: too late to be useful"
    reason = source.skip_reason(delivery, None, now)
    if reason:
        return "skip", reason
    until = source.not_before(delivery, now)
    if until is None and delivery.channel == Channel.SMS:
        until = NIGHT.quiet_until(now, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    if until is None:
        return "send", None
    if delivery.expires_at is not None and until >= delivery.expires_at:
        return "skip", "stale: too late to be useful"
    return "defer", until


def _without_account(row: Delivery, source) -> EmailMultiAlternatives | sms.SmsMessage:
    """The e-mail or text to someone without an account, built by the source from its own
    templates, with the same identity on every copy as other messages."""
    if row.channel == Channel.EMAIL:
        email = source.email(row)
        email.extra_headers["Message-ID"] = message_id(row.key)
        return email
    to, body = source.text(row)
    return sms.SmsMessage(to=to, body=body, idempotency_key=sms.idempotency_key(row.key))


def claim(ids: list[int], *, now: dt.datetime) -> tuple[str, list[Delivery]]:
    token = secrets.token_hex(16)
    claimed = Delivery.objects.filter(
        pk__in=bulk.ids(ids), status=Status.PENDING, due_at__lte=now
    ).update(status=Status.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return token, []
    rows = list(
        Delivery.objects.filter(claim=token, status=Status.SENDING)
        .select_related("user")
        .only(*CLAIMED_FIELDS)
        .order_by("pk")
    )
    return token, rows


# What sending reads of a claimed row and its person (fewer columns, cheaper rows).
CLAIMED_FIELDS = (
    "key",
    "user",
    "organisation",
    "kind",
    "channel",
    "status",
    "object_id",
    "data",
    "due_at",
    "expires_at",
    "attempts",
    "user__email",
    "user__phone",
    "user__display_name",
    "user__preferred_language",
    "user__time_zone",
    "user__is_active",
)


def _compose(rows, prefs, loaded, now, skipped, deferred, in_app, outgoing) -> None:
    """Decide each claimed row and build its message (in the language already active)."""
    bodies: dict = {}
    for row in rows:
        pref = prefs.get(row.user_id)
        source = loaded[row.kind]
        action, detail = _decide(row, pref, source, now)
        if action == "skip":
            skipped[str(detail)].append(row.pk)
            continue
        if action == "defer":
            deferred[row.pk] = detail
            continue
        if row.user_id is None:
            outgoing.append((row, _without_account(row, source)))
            continue
        message = source.message(row, row.user)
        if row.channel == Channel.IN_APP:
            in_app.append((row, message))
        elif row.channel == Channel.EMAIL:
            outgoing.append((row, build_email(row, row.user, message, bodies)))
        else:
            outgoing.append(
                (
                    row,
                    sms.SmsMessage(
                        to=row.user.phone,
                        body=sms_body(message),
                        idempotency_key=sms.idempotency_key(row.key),
                    ),
                )
            )


def send_batch(*, ids: list[int], now: dt.datetime | None = None) -> BatchResult:
    """Send the due rows among `ids` that this call manages to claim; skip, defer or retry
    the rest. Safe to run twice or concurrently: a row is only ever claimed once."""
    now = now or timezone.now()
    result = BatchResult()
    token, rows = claim(ids, now=now)
    if not rows:
        return result
    prefs = sources.preferences_for(d.user_id for d in rows)
    by_kind: dict[str, list[Delivery]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)
    loaded = {}
    for kind, kind_rows in by_kind.items():
        source = sources.SOURCES[kind]()
        source.load(kind_rows, now)
        loaded[kind] = source

    skipped: dict[str, list[int]] = defaultdict(list)
    deferred: dict[int, dt.datetime] = {}
    in_app: list[tuple[Delivery, sources.Message]] = []
    outgoing: list[tuple[Delivery, object]] = []
    by_language: dict[str, list[Delivery]] = defaultdict(list)
    for row in rows:
        language = row.user.preferred_language if row.user_id else ""
        by_language[language or settings.LANGUAGE_CODE].append(row)
    for language, language_rows in by_language.items():
        with translation.override(language):
            _compose(language_rows, prefs, loaded, now, skipped, deferred, in_app, outgoing)

    # E-mails and texts first (outside any transaction: providers can be slow), then one
    # transaction records everything else: skips, deferrals, in-app notices, the last marks.
    unmarked, failures = _send_outgoing(outgoing, token=token, now=now, result=result)
    with transaction.atomic():
        mine = Delivery.objects.filter(claim=token, status=Status.SENDING)
        for reason, pks in skipped.items():
            mine.filter(pk__in=pks).update(status=Status.SKIPPED, last_error=reason[:200])
            result.skipped += pks
        if deferred:
            mine.filter(pk__in=list(deferred)).update(
                status=Status.PENDING,
                enqueued_at=None,
                attempts=F("attempts") - 1,
                due_at=Case(*[When(pk=pk, then=Value(until)) for pk, until in deferred.items()]),
            )
            result.deferred += list(deferred)
        if in_app:
            _deliver_in_app(in_app, now=now)
            unmarked += [row.pk for row, _message in in_app]
        _mark_sent(unmarked, token=token, now=now, result=result)
        _record_failures(failures, token=token, now=now, result=result)
    logger.info(
        "notifications.batch",
        extra={
            "sent": len(result.sent),
            "skipped": len(result.skipped),
            "deferred": len(result.deferred),
            "retry": len(result.retry),
            "failed": len(result.failed),
        },
    )
    return result


def _deliver_in_app(items: list[tuple[Delivery, sources.Message]], *, now) -> None:
    """In-app notices, written in the caller's transaction with the UPDATE that marks their
    rows sent: exactly once."""
    bulk.insert_rows(
        Notification,
        ("user", "kind", "title", "body", "url", "created_at"),
        [
            (row.user_id, row.kind, message.title[:200], "\n".join(message.lines), message.url, now)
            for row, message in items
        ],
    )


def _mark_sent(pks: list[int], *, token: str, now, result: BatchResult) -> None:
    if pks:
        Delivery.objects.filter(pk__in=bulk.ids(pks), claim=token).update(
            status=Status.SENT, sent_at=now, last_error=""
        )
        result.sent.extend(pks)
        pks.clear()


def _send_outgoing(items, *, token: str, now, result: BatchResult) -> tuple[list[int], list]:
    """Hand e-mails and texts to their providers; returns (sent but not yet marked, failures).

    A text is marked sent at once; e-mails every NOTIFICATIONS_SENT_FLUSH_EVERY (the rest by
    the caller, with the batch's other changes). See the module's docstring for why.
    """
    email_flush_every = _setting("NOTIFICATIONS_SENT_FLUSH_EVERY", 25)
    unmarked: list[int] = []
    failures: list[tuple[Delivery, Exception]] = []
    connection = None
    sms_backend = None
    try:
        for row, outgoing in items:
            if len(unmarked) >= email_flush_every:
                _mark_sent(unmarked, token=token, now=now, result=result)
            is_email = isinstance(outgoing, EmailMultiAlternatives)
            try:
                if is_email:
                    if connection is None:
                        connection = get_connection()
                        connection.open()
                    connection.send_messages([outgoing])
                else:
                    sms_backend = sms_backend or sms.get_backend()
                    sms_backend.send(outgoing)
            except Exception as error:  # noqa: BLE001 - every provider error is recorded
                failures.append((row, error))
                logger.warning(
                    "notifications.send_failed",
                    extra={"delivery_id": row.pk, "error": type(error).__name__},
                )
                continue
            unmarked.append(row.pk)
            if not is_email:
                _mark_sent(unmarked, token=token, now=now, result=result)
    except BaseException:
        # Whatever went out before the error is recorded as sent before the error moves on.
        _mark_sent(unmarked, token=token, now=now, result=result)
        raise
    finally:
        if connection is not None:
            connection.close()
    return unmarked, failures


def _record_failures(failures, *, token: str, now, result: BatchResult) -> None:
    retry: dict[int, dt.datetime] = {}
    give_up: list[tuple[int, str]] = []
    for row, error in failures:
        # Only the kind of error: provider messages can contain addresses.
        reason = f"{type(error).__name__}"
        if isinstance(error, sms.SmsError):
            reason = f"{reason}: {error}"[:200]
        if _is_temporary(error) and row.attempts < max_attempts():
            retry[row.pk] = now + backoff(row.attempts)
        else:
            give_up.append((row.pk, reason))
    mine = Delivery.objects.filter(claim=token, status=Status.SENDING)
    if retry:
        reasons = {row.pk: f"{type(error).__name__}"[:200] for row, error in failures}
        mine.filter(pk__in=list(retry)).update(
            status=Status.PENDING,
            enqueued_at=None,
            due_at=Case(*[When(pk=pk, then=Value(at)) for pk, at in retry.items()]),
            last_error=Case(*[When(pk=pk, then=Value(reasons[pk])) for pk in retry]),
        )
        result.retry += list(retry)
    if give_up:
        mine.filter(pk__in=[pk for pk, _r in give_up]).update(
            status=Status.FAILED,
            last_error=Case(*[When(pk=pk, then=Value(reason)) for pk, reason in give_up]),
        )
        result.failed += [pk for pk, _r in give_up]


# --- people's choices --------------------------------------------------------------------


def preference_for(user) -> NotificationPreference:
    """The person's saved choices, or the defaults (not saved)."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(
        user=user
    )


def preference_update(*, user, values: dict) -> NotificationPreference:
    """Save a person's own notification choices."""
    pref = preference_for(user)
    for name in (
        "email_enabled",
        "sms_enabled",
        "in_app_enabled",
        "muted_kinds",
        "quiet_start",
        "quiet_end",
        "session_reminder_offsets",
    ):
        if name in values:
            setattr(pref, name, values[name])
    pref.full_clean(exclude=["user"])
    pref.save()
    if "preferred_language" in values and values["preferred_language"]:
        user.preferred_language = values["preferred_language"]
        user.save(update_fields=["preferred_language"])
    return pref


def unsubscribe_check(*, token: str) -> tuple[int, str]:
    """The person and kind a link is for; BadUnsubscribeLink if forged or too old."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
        user_id, kind = int(data["u"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise BadUnsubscribeLink(_("This link does not work. It may be too old.")) from error
    if kind not in Kind.values:
        raise BadUnsubscribeLink(_("This link does not work. It may be too old."))
    return user_id, kind


def unsubscribe(*, token: str) -> str:
    """Turn off one kind of notice for the person the signed link was made for."""
    from accounts.models import User

    user_id, kind = unsubscribe_check(token=token)
    if kind in ALWAYS_ON_KINDS:
        raise BadUnsubscribeLink(_("Safety alerts cannot be turned off."))
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise BadUnsubscribeLink(_("This link does not work. It may be too old."))
    with transaction.atomic():
        pref, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        if kind not in pref.muted_kinds:
            pref.muted_kinds = [*pref.muted_kinds, kind]
            pref.save(update_fields=["muted_kinds", "updated_at"])
    logger.info("notifications.unsubscribed", extra={"user_id": user_id, "kind": kind})
    return kind


def notification_mark_read(*, user, notification: Notification) -> None:
    """Mark one of the person's own notices as read."""
    if notification.user_id != user.pk:
        raise NotificationError(_("This is not your notice."))
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_mark_all_read(*, user) -> int:
    return Notification.objects.visible_to(user).unread().update(read_at=timezone.now())


@transaction.atomic
def delivery_retry(*, actor, delivery: Delivery) -> None:
    """A coordinator asks to try a failed message again (the delivery is already scoped).

    A referral invitation's reminder, skipped because the invitation had failed, is planned
    again: it waits until a week after the invitation goes (see ReferralReminderSource).
    """
    now = timezone.now()
    updated = Delivery.objects.filter(pk=delivery.pk, status=Status.FAILED).update(
        status=Status.PENDING, attempts=0, due_at=now, enqueued_at=None
    )
    if not updated:
        raise NotificationError(_("This message is no longer waiting to be tried again."))
    if delivery.kind == Kind.REFERRAL_INVITATION:
        reminder = referral_delivery_key(
            Kind.REFERRAL_REMINDER, delivery.object_id, delivery.channel
        )
        Delivery.objects.filter(key=reminder, status=Status.SKIPPED).update(
            status=Status.PENDING, last_error="", attempts=0, due_at=now, enqueued_at=None
        )
    logger.info(
        "notifications.delivery_retry", extra={"delivery_id": delivery.pk, "actor_id": actor.pk}
    )


def organisation_settings_for(organisation) -> OrganisationNotificationSettings:
    return OrganisationNotificationSettings.objects.filter(
        organisation=organisation
    ).first() or OrganisationNotificationSettings(organisation=organisation)


def organisation_settings_update(
    *, actor, organisation, session_reminder_offsets: list[int]
) -> OrganisationNotificationSettings:
    """Change an organisation's default reminder times (the organisation is already scoped)."""
    if not session_reminder_offsets:
        raise NotificationError(_("Choose at least one reminder time."))
    settings_row = organisation_settings_for(organisation)
    settings_row.session_reminder_offsets = sorted(
        {int(o) for o in session_reminder_offsets}, reverse=True
    )
    settings_row.save()
    logger.info(
        "notifications.organisation_settings",
        extra={"organisation_id": organisation.pk, "actor_id": actor.pk},
    )
    return settings_row
