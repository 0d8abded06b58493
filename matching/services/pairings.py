"""A pairing's life: introduction, acceptance, pausing, ending, messages, contacts and concerns."""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from programmes.models import Enrolment
from referrals.services import referral_mark_active_for_user

from .. import contact_filter
from ..models import (
    BuddyRequest,
    CheckIn,
    Concern,
    ContactLog,
    MatchSettings,
    Message,
    Notice,
    Pairing,
    Proposal,
    SupporterProfile,
)
from .common import ContactDetailsHeldBack, IllegalTransition, MatchingError, is_manager
from .notices import coordinators_of, link, notice_queue

logger = logging.getLogger(__name__)

CHECKIN_AFTER_CONTACTS = 2
CHECKIN_AFTER_DAYS = 14


def _locked(pairing: Pairing) -> Pairing:
    return (
        Pairing.objects.select_for_update(of=("self",))
        .select_related("recipient__user", "supporter__enrolment__user", "programme", "request")
        .get(pk=pairing.pk)
    )


def _side(user: User, pairing: Pairing) -> str:
    side = pairing.side_of(user)
    if side is None:
        raise PermissionDenied
    return side


def _side_or_manager(user: User, pairing: Pairing) -> str:
    side = pairing.side_of(user)
    if side is not None:
        return side
    if is_manager(user=user, programme=pairing.programme):
        return "coordinator"
    raise PermissionDenied


def _member_url(pairing: Pairing) -> str:
    return link(reverse("matching:pairing", kwargs={"pk": pairing.pk}))


def _manage_url(pairing: Pairing) -> str:
    return link(reverse("matching:manage_pairing", kwargs={"pk": pairing.pk}))


def _tell_coordinators(pairing: Pairing, *, key: str, subject: str, body: str) -> None:
    for coordinator in coordinators_of(pairing.programme):
        notice_queue(
            key=f"{key}:{coordinator.pk}",
            user=coordinator,
            subject=subject,
            body=f"{body}\n\n{_manage_url(pairing)}",
            audience=Notice.Audience.STAFF,
        )


def _tell_person(pairing: Pairing, person: User, *, key: str, subject: str, body: str) -> None:
    notice_queue(
        key=f"{key}:{person.pk}",
        user=person,
        subject=subject,
        body=f"{body}\n\n{_member_url(pairing)}",
    )


def supporter_free_places(
    profile: SupporterProfile, *, ignore_proposal: Proposal | None = None
) -> int:
    live = profile.pairings.filter(status__in=Pairing.LIVE_STATUSES).count()
    proposed = profile.proposals.filter(status=Proposal.Status.PROPOSED)
    if ignore_proposal is not None:
        proposed = proposed.exclude(pk=ignore_proposal.pk)
    return profile.capacity - live - proposed.count()


def is_forbidden_pair(*, recipient: Enrolment, supporter: SupporterProfile) -> bool:
    """A coordinator forbade the pair, or it was declined, ended or rejected before."""
    from ..models import PairRule

    return (
        PairRule.objects.filter(recipient=recipient, supporter=supporter, kind="forbid").exists()
        or Pairing.objects.filter(
            recipient=recipient, supporter=supporter, status=Pairing.Status.ENDED
        ).exists()
        or Proposal.objects.filter(
            request__enrolment=recipient, supporter=supporter, status=Proposal.Status.REJECTED
        ).exists()
    )


def pairing_create(
    *,
    coordinator: User,
    request: BuddyRequest,
    supporter: SupporterProfile,
    proposal: Proposal | None = None,
) -> Pairing:
    """Create a pairing in state proposed (from an approved proposal, or by hand)."""
    request = BuddyRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != BuddyRequest.Status.WAITING:
        raise IllegalTransition(_("This person is not waiting for a buddy."))
    if supporter.enrolment.programme_id != request.enrolment.programme_id:
        raise PermissionDenied
    if supporter.enrolment.user_id == request.enrolment.user_id:
        raise MatchingError(_("Someone cannot be their own buddy."))
    if is_forbidden_pair(recipient=request.enrolment, supporter=supporter):
        raise MatchingError(_("These two people must not be paired."))
    try:
        with transaction.atomic():
            pairing = Pairing.objects.create(
                programme_id=request.enrolment.programme_id,
                request=request,
                recipient=request.enrolment,
                supporter=supporter,
                proposal=proposal,
                created_by=coordinator,
            )
    except IntegrityError as exc:
        raise IllegalTransition(_("This person already has a buddy.")) from exc
    request.status = BuddyRequest.Status.PAIRED
    request.save(update_fields=["status", "updated_at"])
    logger.info("matching.pairing_created", extra={"pairing_id": pairing.pk})
    return pairing


@transaction.atomic
def pairing_introduce(*, coordinator: User, pairing: Pairing) -> Pairing:
    """Introduce the two people: each sees a short profile and can accept or decline."""
    pairing = _locked(pairing)
    if not is_manager(user=coordinator, programme=pairing.programme):
        raise PermissionDenied
    if pairing.status != Pairing.Status.PROPOSED:
        raise IllegalTransition(_("Only a pairing that has not been introduced can be introduced."))
    pairing.status = Pairing.Status.INTRODUCED
    pairing.introduced_at = timezone.now()
    pairing.save(update_fields=["status", "introduced_at"])
    for person in (pairing.recipient.user, pairing.supporter.enrolment.user):
        _tell_person(
            pairing,
            person,
            key=f"pairing:{pairing.pk}:introduced",
            subject=_("Meet your buddy"),
            body=_("We have found someone for you to meet. Please sign in to read about them."),
        )
    return pairing


def _on_active(pairing: Pairing) -> None:
    """A pairing became active: the referral that brought the recipient here moves on too."""
    referral_mark_active_for_user(
        user_id=pairing.recipient.user_id, programme_id=pairing.programme_id
    )
    logger.info("matching.pairing_active", extra={"pairing_id": pairing.pk})


@transaction.atomic
def pairing_accept(*, user: User, pairing: Pairing, agreed: bool) -> Pairing:
    """One person accepts the introduction and the agreement; when both have, it becomes active."""
    pairing = _locked(pairing)
    side = _side(user, pairing)
    if not agreed:
        raise MatchingError(_("Please read the agreement and tick the box to accept it."))
    if pairing.status != Pairing.Status.INTRODUCED:
        raise IllegalTransition(_("This pairing is not waiting for you to accept it."))
    if pairing.has_accepted(side):
        raise IllegalTransition(_("You have already accepted."))
    now = timezone.now()
    setattr(pairing, f"{side}_accepted_at", now)
    fields = [f"{side}_accepted_at"]
    if pairing.recipient_accepted_at and pairing.supporter_accepted_at:
        pairing.status = Pairing.Status.ACTIVE
        pairing.activated_at = now
        fields += ["status", "activated_at"]
    pairing.save(update_fields=fields)
    if pairing.status == Pairing.Status.ACTIVE:
        _on_active(pairing)
        for person in (pairing.recipient.user, pairing.supporter.enrolment.user):
            _tell_person(
                pairing,
                person,
                key=f"pairing:{pairing.pk}:active",
                subject=_("You can now talk to your buddy"),
                body=_("You have both said yes. You can now send messages on the website."),
            )
    return pairing


def _reopen_request(pairing: Pairing) -> None:
    """After a pairing that did not work out, the person waits again, ahead of others."""
    BuddyRequest.objects.filter(pk=pairing.request_id).update(
        status=BuddyRequest.Status.WAITING, priority=True, updated_at=timezone.now()
    )


def _finish(pairing: Pairing, *, user: User, ending: str, reason: str) -> Pairing:
    pairing.status = Pairing.Status.ENDED
    pairing.ending = ending
    pairing.ended_by = user
    pairing.ended_at = timezone.now()
    pairing.end_reason = reason.strip()[:500]
    pairing.save(update_fields=["status", "ending", "ended_by", "ended_at", "end_reason"])
    if ending == Pairing.Ending.COMPLETED:
        BuddyRequest.objects.filter(pk=pairing.request_id).update(
            status=BuddyRequest.Status.CLOSED, updated_at=timezone.now()
        )
    else:
        _reopen_request(pairing)
    logger.info("matching.pairing_ended", extra={"pairing_id": pairing.pk, "ending": ending})
    return pairing


@transaction.atomic
def pairing_decline(*, user: User, pairing: Pairing, reason: str = "") -> Pairing:
    """One person says no at introduction. The pair is never proposed again."""
    pairing = _locked(pairing)
    side = _side(user, pairing)
    if pairing.status != Pairing.Status.INTRODUCED:
        raise IllegalTransition(_("This pairing is not waiting for an answer."))
    if pairing.has_accepted(side):
        raise IllegalTransition(_("You have already accepted. You can end the pairing instead."))
    _finish(pairing, user=user, ending=Pairing.Ending.DECLINED, reason=reason)
    _tell_coordinators(
        pairing,
        key=f"pairing:{pairing.pk}:declined",
        subject=_("An introduction was declined"),
        body=_("One person said no to an introduction. They are waiting for a new buddy."),
    )
    return pairing


@transaction.atomic
def pairing_pause(*, user: User, pairing: Pairing, reason: str = "") -> Pairing:
    """Pause an active pairing (either person or a coordinator)."""
    pairing = _locked(pairing)
    _side_or_manager(user, pairing)
    if pairing.status != Pairing.Status.ACTIVE:
        raise IllegalTransition(_("Only an active pairing can be paused."))
    pairing.status = Pairing.Status.PAUSED
    pairing.paused_at = timezone.now()
    pairing.save(update_fields=["status", "paused_at"])
    return pairing


@transaction.atomic
def pairing_resume(*, user: User, pairing: Pairing) -> Pairing:
    """Carry on after a pause."""
    pairing = _locked(pairing)
    _side_or_manager(user, pairing)
    if pairing.status != Pairing.Status.PAUSED:
        raise IllegalTransition(_("Only a paused pairing can carry on."))
    pairing.status = Pairing.Status.ACTIVE
    pairing.paused_at = None
    pairing.save(update_fields=["status", "paused_at"])
    return pairing


@transaction.atomic
def pairing_end(*, user: User, pairing: Pairing, ending: str, reason: str = "") -> Pairing:
    """End a pairing: completed as planned, or stopped early (by either person or a coordinator)."""
    pairing = _locked(pairing)
    side = _side_or_manager(user, pairing)
    if pairing.status == Pairing.Status.ENDED:
        raise IllegalTransition(_("This pairing has already ended."))
    if ending not in (Pairing.Ending.COMPLETED, Pairing.Ending.CANCELLED):
        raise MatchingError(_("Please say whether it finished as planned or stopped early."))
    if ending == Pairing.Ending.COMPLETED and pairing.status not in (
        Pairing.Status.ACTIVE,
        Pairing.Status.PAUSED,
    ):
        raise IllegalTransition(_("A pairing that has not started cannot be completed."))
    if side != "coordinator" and pairing.status == Pairing.Status.PROPOSED:
        raise PermissionDenied
    if ending == Pairing.Ending.CANCELLED and not reason.strip():
        raise MatchingError(_("Please tell us briefly why it is stopping."))
    _finish(pairing, user=user, ending=ending, reason=reason)
    if side != "coordinator":
        other = pairing.other_user(user)
        _tell_person(
            pairing,
            other,
            key=f"pairing:{pairing.pk}:ended",
            subject=_("Your buddy pairing has ended"),
            body=_("Your buddy pairing has ended. Thank you for taking part."),
        )
    _tell_coordinators(
        pairing,
        key=f"pairing:{pairing.pk}:ended",
        subject=_("A buddy pairing has ended"),
        body=_("A buddy pairing has ended. You can see how and why on its page."),
    )
    return pairing


@transaction.atomic
def pairing_rematch(*, coordinator: User, pairing: Pairing, reason: str) -> Pairing:
    """End a pairing that is not a good fit; the person waits for a new buddy, with priority."""
    pairing = _locked(pairing)
    if not is_manager(user=coordinator, programme=pairing.programme):
        raise PermissionDenied
    if pairing.status == Pairing.Status.ENDED:
        raise IllegalTransition(_("This pairing has already ended."))
    if not reason.strip():
        raise MatchingError(_("Please give a reason."))
    _finish(pairing, user=coordinator, ending=Pairing.Ending.CANCELLED, reason=reason)
    pairing.checkins.filter(handled_at__isnull=True).update(handled_at=timezone.now())
    for person in (pairing.recipient.user, pairing.supporter.enrolment.user):
        _tell_person(
            pairing,
            person,
            key=f"pairing:{pairing.pk}:rematch",
            subject=_("Your buddy pairing has ended"),
            body=_("Your coordinator has ended this pairing. They will be in touch."),
        )
    return pairing


def contact_sharing_allowed(pairing: Pairing) -> bool:
    settings = MatchSettings.objects.filter(programme_id=pairing.programme_id).first()
    return bool(settings and settings.allow_contact_sharing)


HELD_BACK = _(
    "We have not sent this message because it seems to have a phone number or e-mail address "
    "in it. To keep you both safe, please keep in touch through this website. If you would like "
    "to share contact details, please talk to your coordinator first."
)


@transaction.atomic
def message_send(*, user: User, pairing: Pairing, body: str) -> Message:
    """Send a message to the other person; phone numbers and e-mail addresses are held back."""
    pairing = _locked(pairing)
    _side(user, pairing)
    if pairing.status not in (Pairing.Status.ACTIVE, Pairing.Status.PAUSED):
        raise IllegalTransition(_("You can send messages once you have both said yes."))
    body = (body or "").strip()
    if not body:
        raise MatchingError(_("Please write a message."))
    if len(body) > 4000:
        raise MatchingError(_("Please keep a message under 4,000 characters."))
    if not contact_sharing_allowed(pairing) and contact_filter.has_contact_details(body):
        raise ContactDetailsHeldBack(str(HELD_BACK))
    message = Message.objects.create(pairing=pairing, sender=user, body=body)
    Pairing.objects.filter(pk=pairing.pk).update(last_contact_at=message.created_at)
    other = pairing.other_user(user)
    _tell_person(
        pairing,
        other,
        key=f"message:{message.pk}",
        subject=_("You have a new message from your buddy"),
        body=_("You have a new message from your buddy. Sign in to read it."),
    )
    return message


def messages_mark_read(*, user: User, pairing: Pairing) -> int:
    _side(user, pairing)
    return (
        pairing.messages.exclude(sender=user)
        .filter(read_at__isnull=True)
        .update(read_at=timezone.now())
    )


@transaction.atomic
def contact_log_create(
    *,
    user: User,
    pairing: Pairing,
    contact_on: datetime.date,
    minutes: int,
    method: str,
    note: str = "",
    needs_support: bool = False,
) -> ContactLog:
    """The supporter records a conversation. 'I need to talk to someone' alerts the coordinator."""
    pairing = _locked(pairing)
    if _side(user, pairing) != "supporter":
        raise PermissionDenied
    if pairing.status not in (Pairing.Status.ACTIVE, Pairing.Status.PAUSED, Pairing.Status.ENDED):
        raise IllegalTransition(_("You can log contacts once the pairing has started."))
    if contact_on > timezone.localdate():
        raise MatchingError(_("The date cannot be in the future."))
    if pairing.activated_at and contact_on < timezone.localdate(pairing.activated_at):
        raise MatchingError(_("The date cannot be before the pairing started."))
    if not 1 <= minutes <= 600:
        raise MatchingError(_("Please give the length in minutes, between 1 and 600."))
    log = ContactLog.objects.create(
        pairing=pairing,
        logged_by=user,
        contact_on=contact_on,
        minutes=minutes,
        method=method,
        note=note[:500],
        needs_support=needs_support,
    )
    contact_at = timezone.make_aware(
        datetime.datetime.combine(contact_on, datetime.time(12, 0)), timezone.get_current_timezone()
    )
    if pairing.last_contact_at is None or contact_at > pairing.last_contact_at:
        Pairing.objects.filter(pk=pairing.pk).update(last_contact_at=contact_at)
    if needs_support:
        _tell_coordinators(
            pairing,
            key=f"contact:{log.pk}:support",
            subject=_("A supporter would like to talk to you"),
            body=_("A peer supporter has asked to talk to someone after a conversation."),
        )
    return log


def contact_support_given(*, coordinator: User, log: ContactLog) -> ContactLog:
    """The coordinator has talked to the supporter who asked."""
    if not is_manager(user=coordinator, programme=log.pairing.programme):
        raise PermissionDenied
    if log.support_given_at is None:
        log.support_given_at = timezone.now()
        log.support_given_by = coordinator
        log.save(update_fields=["support_given_at", "support_given_by"])
    return log


def checkin_due(*, user: User, pairing: Pairing) -> bool:
    """Ask 'how is it going?' once, after the first conversations or two weeks."""
    if pairing.status != Pairing.Status.ACTIVE or pairing.side_of(user) is None:
        return False
    if pairing.checkins.filter(user=user).exists():
        return False
    started_long_ago = pairing.activated_at and (
        timezone.now() - pairing.activated_at >= datetime.timedelta(days=CHECKIN_AFTER_DAYS)
    )
    return bool(started_long_ago) or pairing.contact_logs.count() >= CHECKIN_AFTER_CONTACTS


@transaction.atomic
def checkin_record(*, user: User, pairing: Pairing, answer: str, note: str = "") -> CheckIn:
    """Record how it is going. 'Not a good fit' tells the coordinator, who can find a new buddy."""
    pairing = _locked(pairing)
    _side(user, pairing)
    if pairing.status not in (Pairing.Status.ACTIVE, Pairing.Status.PAUSED):
        raise IllegalTransition(_("This pairing is not active."))
    if answer not in CheckIn.Answer.values:
        raise MatchingError(_("Please choose an answer."))
    try:
        with transaction.atomic():
            checkin = CheckIn.objects.create(
                pairing=pairing, user=user, answer=answer, note=note[:500]
            )
    except IntegrityError as exc:
        raise IllegalTransition(_("You have already told us how it is going. Thank you.")) from exc
    if answer == CheckIn.Answer.POOR:
        _tell_coordinators(
            pairing,
            key=f"checkin:{checkin.pk}:poor",
            subject=_("A buddy pairing may not be a good fit"),
            body=_("Someone said their buddy pairing is not a good fit. Please look at it."),
        )
    return checkin


@transaction.atomic
def concern_report(*, user: User, pairing: Pairing, text: str) -> Concern:
    """Either person reports a concern; the programme's coordinators are told at once."""
    pairing = _locked(pairing)
    _side(user, pairing)
    text = (text or "").strip()
    if not text:
        raise MatchingError(_("Please tell us what is worrying you."))
    concern = Concern.objects.create(pairing=pairing, raised_by=user, text=text[:2000])
    _tell_coordinators(
        pairing,
        key=f"concern:{concern.pk}",
        subject=_("A concern has been reported about a buddy pairing"),
        body=_("Someone has reported a concern about a buddy pairing. Please look at it today."),
    )
    logger.warning(
        "matching.concern_reported", extra={"pairing_id": pairing.pk, "concern_id": concern.pk}
    )
    return concern


def concern_resolve(*, coordinator: User, concern: Concern, resolution: str) -> Concern:
    """The coordinator records what was done about a concern."""
    if not is_manager(user=coordinator, programme=concern.pairing.programme):
        raise PermissionDenied
    if concern.resolved_at is not None:
        raise IllegalTransition(_("This concern is already closed."))
    if not resolution.strip():
        raise MatchingError(_("Please say what was done."))
    concern.resolved_at = timezone.now()
    concern.resolved_by = coordinator
    concern.resolution = resolution.strip()[:500]
    concern.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return concern
