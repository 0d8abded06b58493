"""What coordinators see of a named referral's invitation and reminder: the notifications
ledger's rows for it, found by their keys (one indexed query), in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.models import Channel, Delivery, Kind

PROBLEMS = {
    (Kind.REFERRAL_INVITATION, Channel.EMAIL): gettext_lazy(
        "Invitation could not be sent by e-mail"
    ),
    (Kind.REFERRAL_INVITATION, Channel.SMS): gettext_lazy(
        "Invitation could not be sent by text message"
    ),
    (Kind.REFERRAL_REMINDER, Channel.EMAIL): gettext_lazy("Reminder could not be sent by e-mail"),
    (Kind.REFERRAL_REMINDER, Channel.SMS): gettext_lazy(
        "Reminder could not be sent by text message"
    ),
}


def problems_by_referral(referral_ids) -> dict[int, list[str]]:
    """For each referral, the messages to the person that could not be sent."""
    problems: dict[int, list[str]] = {}
    failed = (
        Delivery.objects.for_referrals(referral_ids)
        .failed()
        .order_by("kind", "channel")
        .values_list("object_id", "kind", "channel")
    )
    for referral_id, kind, channel in failed:
        problems.setdefault(referral_id, []).append(str(PROBLEMS[(kind, channel)]))
    return problems


@dataclass
class SentMessage:
    what: str
    how: str
    outcome: str
    # For a message that could not be sent: what went wrong, and the ledger row to try again.
    problem: str = ""
    retry_id: int | None = None


def messages_of(referral) -> list[SentMessage]:
    """The invitation and reminder on each channel, and what became of each."""
    rows = list(Delivery.objects.for_referrals([referral.pk]).order_by("kind", "channel"))
    not_invited = {
        row.channel
        for row in rows
        if row.kind == Kind.REFERRAL_INVITATION and row.status == Delivery.Status.FAILED
    }
    messages = []
    for row in rows:
        outcome = _outcome(row)
        waiting = row.kind == Kind.REFERRAL_REMINDER and row.status == Delivery.Status.PENDING
        if waiting and row.channel in not_invited:
            # It is skipped when due unless the invitation goes first.
            outcome = _("Only once the invitation has gone")
        message = SentMessage(
            what=row.get_kind_display(), how=row.get_channel_display(), outcome=outcome
        )
        if row.status == Delivery.Status.FAILED:
            message.problem = str(PROBLEMS[(row.kind, row.channel)])
            message.retry_id = row.pk
        messages.append(message)
    return messages


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "j M Y, H:i")


def _outcome(row: Delivery) -> str:
    status = row.status
    if status == Delivery.Status.SENT:
        return _("Sent %(when)s") % {"when": _when(row.sent_at)}
    if status == Delivery.Status.FAILED:
        return _("Could not be sent (%(problem)s)") % {"problem": row.last_error}
    if status == Delivery.Status.SKIPPED:
        return _("Not needed (%(reason)s)") % {"reason": row.last_error}
    if status == Delivery.Status.PENDING and row.due_at > timezone.now():
        return _("Will go %(when)s") % {"when": _when(row.due_at)}
    return _("Going now")
