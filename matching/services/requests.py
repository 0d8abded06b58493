"""Requests for a buddy, made by a member or by a coordinator on their behalf."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from programmes.models import Enrolment

from ..models import BuddyRequest
from .common import IllegalTransition, MatchingError, is_manager

REQUEST_FIELDS = (
    "wants",
    "conditions",
    "experiences",
    "age_group",
    "languages",
    "availability",
    "formats",
    "preferred_format",
    "town",
    "topics",
    "notes",
)


def _check(fields: dict) -> None:
    unknown = set(fields) - set(REQUEST_FIELDS)
    if unknown:
        raise TypeError(f"unknown request fields: {sorted(unknown)}")
    if not fields.get("languages"):
        raise MatchingError(_("Please choose at least one language."))
    if not fields.get("formats"):
        raise MatchingError(_("Please choose at least one way to talk."))
    if not fields.get("availability"):
        raise MatchingError(_("Please choose at least one time when you are free."))
    if "in_person" in fields["formats"] and not fields.get("town"):
        raise MatchingError(_("To meet in person, please choose your nearest town."))
    if fields.get("preferred_format") and fields["preferred_format"] not in fields["formats"]:
        fields["preferred_format"] = ""


def buddy_request_create(*, actor: User, enrolment: Enrolment, **fields) -> BuddyRequest:
    """Ask for a buddy for an enrolment: by the member, or by a coordinator for them (assisted)."""
    if enrolment.user_id == actor.pk:
        assisted_by = None
    elif is_manager(user=actor, programme=enrolment.programme):
        assisted_by = actor
    else:
        raise PermissionDenied
    if not enrolment.is_recipient or enrolment.status != Enrolment.Status.ACTIVE:
        raise MatchingError(_("Only members taking part in the programme can ask for a buddy."))
    if not enrolment.programme.offers_one_to_one:
        raise MatchingError(_("This programme does not offer buddies."))
    _check(fields)
    try:
        with transaction.atomic():
            return BuddyRequest.objects.create(
                enrolment=enrolment, assisted_by=assisted_by, **fields
            )
    except IntegrityError as exc:
        raise MatchingError(_("There is already a request for a buddy in this programme.")) from exc


def buddy_request_update(*, actor: User, request: BuddyRequest, **fields) -> BuddyRequest:
    """Change a request while it is still waiting."""
    if request.enrolment.user_id != actor.pk and not is_manager(
        user=actor, programme=request.enrolment.programme
    ):
        raise PermissionDenied
    if request.status != BuddyRequest.Status.WAITING:
        raise IllegalTransition(_("This request can no longer be changed."))
    _check(fields)
    for name, value in fields.items():
        setattr(request, name, value)
    request.save()
    return request


@transaction.atomic
def buddy_request_withdraw(*, actor: User, request: BuddyRequest) -> BuddyRequest:
    """Stop waiting for a buddy. Any proposal waiting for review is rejected."""
    if request.enrolment.user_id != actor.pk and not is_manager(
        user=actor, programme=request.enrolment.programme
    ):
        raise PermissionDenied
    updated = BuddyRequest.objects.filter(pk=request.pk, status=BuddyRequest.Status.WAITING).update(
        status=BuddyRequest.Status.CLOSED
    )
    if not updated:
        raise IllegalTransition(_("Only a request that is waiting can be withdrawn."))
    request.proposals.filter(status="proposed").update(
        status="rejected", reject_reason=_("The request was withdrawn.")
    )
    request.refresh_from_db()
    return request
