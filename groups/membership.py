"""Joining and leaving groups, approval, and the waiting list.

Every change to who holds a place locks the group row first (`select_for_update`), so two
people can never take the last place at the same time.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from programmes.models import Enrolment
from referrals.services import referral_mark_active_for_user

from .access import require_moderator
from .bookings import places_keep_for_members, places_release_for_leaver
from .errors import AlreadyInGroup, GroupFull, GroupNotOpen, NotEligible, OfferNotOpen
from .models import Group, Membership, WaitingListOffer

logger = logging.getLogger(__name__)

OFFER_HOURS = 48


def _lock(group: Group) -> Group:
    return Group.objects.select_for_update().select_related("programme").get(pk=group.pk)


def places_taken(group: Group) -> int:
    return group.memberships.holding_place().count()


def waiting_position(membership: Membership) -> int | None:
    """1 for the first person on the waiting list."""
    if membership.status != Membership.Status.WAITING:
        return None
    ahead = (
        Membership.objects.filter(group_id=membership.group_id, status="waiting")
        .offerable()
        .filter(waiting_since__lt=membership.waiting_since)
        .count()
    )
    return ahead + 1


def _check_eligible(user: User, group: Group) -> None:
    if group.status != Group.Status.OPEN or group.programme.status != "open":
        raise GroupNotOpen(_("This group is not taking new members at the moment."))
    if not Enrolment.objects.filter(
        user=user, programme_id=group.programme_id, status="active", role__in=group.audience_roles()
    ).exists():
        raise NotEligible(_("This group is for other people in the programme."))


def _place(
    membership: Membership, status: str, *, now: dt.datetime, offers_missed: int = 0
) -> None:
    membership.status = status
    membership.offers_missed = offers_missed
    membership.left_at = None
    if status == Membership.Status.MEMBER:
        membership.joined_at = now
        membership.waiting_since = None
    elif status == Membership.Status.WAITING:
        membership.waiting_since = now
    membership.save()
    if status == Membership.Status.MEMBER:
        places_keep_for_members(group_id=membership.group_id, newcomer_id=membership.user_id)
        # A referred person who joins a group shows as "active" to the referring clinician.
        referral_mark_active_for_user(
            user_id=membership.user_id, programme_id=membership.group.programme_id
        )


def _admit(group: Group, membership: Membership, *, now: dt.datetime) -> None:
    """Give a place if there is one, otherwise a place on the waiting list.

    Every freed place is offered to the waiting list at once, so a place is only free while
    people are waiting when they have stopped answering offers (see `offers_expire`):
    it is then open to anyone.
    """
    if (
        places_taken(group) < group.capacity
        and not group.memberships.waiting().offerable().exists()
    ):
        _place(membership, Membership.Status.MEMBER, now=now)
    else:
        _place(membership, Membership.Status.WAITING, now=now)


@transaction.atomic
def membership_join(*, user: User, group: Group) -> Membership:
    """Join a group in one step: a place if free, the waiting list if full, or a request
    to the facilitators if the group needs approval."""
    group = _lock(group)
    _check_eligible(user, group)
    now = timezone.now()
    membership = Membership.objects.filter(group=group, user=user).first()
    if membership is not None and membership.status in Membership.CURRENT:
        raise AlreadyInGroup(_("You have already joined this group or its waiting list."))
    if membership is None:
        membership = Membership(group=group, user=user)
    if group.needs_approval:
        _place(membership, Membership.Status.PENDING, now=now)
    else:
        _admit(group, membership, now=now)
    logger.info("group.joined", extra={"membership_id": membership.pk, "status": membership.status})
    return membership


@transaction.atomic
def membership_leave(*, user: User, membership: Membership) -> Membership:
    """Leave a group or its waiting list; a freed place goes to the next person waiting."""
    if membership.user_id != user.pk:
        raise PermissionDenied
    return _leave(membership)


def _leave(membership: Membership) -> Membership:
    group = _lock(membership.group)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status == Membership.Status.LEFT:
        return membership
    now = timezone.now()
    membership.offers.filter(status=WaitingListOffer.Status.OPEN).update(
        status=WaitingListOffer.Status.DECLINED, answered_at=now
    )
    was_member = membership.status == Membership.Status.MEMBER
    membership.status = Membership.Status.LEFT
    membership.left_at = now
    membership.waiting_since = None
    membership.save()
    if was_member:
        places_release_for_leaver(group_id=group.pk, user_id=membership.user_id)
    offer_free_places(group=group, now=now)
    logger.info("group.left", extra={"membership_id": membership.pk})
    return membership


def offer_free_places(*, group: Group, now: dt.datetime | None = None) -> list[WaitingListOffer]:
    """Offer each free place to the first person waiting who still answers offers. The
    caller holds the group lock."""
    now = now or timezone.now()
    offers = []
    free = group.capacity - places_taken(group)
    for membership in group.memberships.waiting().offerable()[: max(free, 0)]:
        membership.status = Membership.Status.OFFERED
        membership.save(update_fields=["status", "updated_at"])
        offers.append(
            WaitingListOffer.objects.create(
                membership=membership,
                created_at=now,
                expires_at=now + dt.timedelta(hours=OFFER_HOURS),
            )
        )
        logger.info("group.offer_made", extra={"membership_id": membership.pk})
    return offers


@transaction.atomic
def offer_accept(*, user: User, offer: WaitingListOffer) -> Membership:
    """Take up an offered place before it runs out."""
    membership = offer.membership
    if membership.user_id != user.pk:
        raise PermissionDenied
    _lock(membership.group)
    offer = WaitingListOffer.objects.select_for_update().get(pk=offer.pk)
    now = timezone.now()
    if offer.status != WaitingListOffer.Status.OPEN or offer.expires_at <= now:
        raise OfferNotOpen(_("Sorry, this offer has ended."))
    offer.status = WaitingListOffer.Status.ACCEPTED
    offer.answered_at = now
    offer.save(update_fields=["status", "answered_at"])
    membership = Membership.objects.get(pk=membership.pk)
    _place(membership, Membership.Status.MEMBER, now=now)
    return membership


@transaction.atomic
def offer_decline(*, user: User, offer: WaitingListOffer) -> Membership:
    """Say no to an offered place; it goes to the next person and you leave the list."""
    if offer.membership.user_id != user.pk:
        raise PermissionDenied
    if offer.status != WaitingListOffer.Status.OPEN:
        raise OfferNotOpen(_("Sorry, this offer has ended."))
    return _leave(offer.membership)


def offers_expire(*, now: dt.datetime | None = None) -> int:
    """End offers nobody answered in time and offer those places to the next people.

    Whoever let an offer run out goes back on the waiting list, at the back, as most
    services do: missing one offer must not cost a person their place in the queue, but
    keeping them first would hold up everyone behind them for another time limit. Their group
    page says so and shows where they are now. After `Membership.MISSED_OFFERS_LIMIT` offers
    in a row run out we stop offering them places (they stay on the list, and their page asks
    whether they still want one), so someone who no longer reads their messages is not sent
    an offer every two days for ever, and a place nobody answers for becomes open to anyone.

    Each offer is claimed with a conditional UPDATE, so running this twice, or in two
    workers at once, expires each offer once.
    """
    now = now or timezone.now()
    expired = 0
    due = WaitingListOffer.objects.filter(status="open", expires_at__lte=now).values_list(
        "pk", "membership__group_id"
    )
    for offer_id, group_id in list(due):
        with transaction.atomic():
            group = _lock(Group(pk=group_id))
            claimed = WaitingListOffer.objects.filter(pk=offer_id, status="open").update(
                status=WaitingListOffer.Status.EXPIRED, answered_at=now
            )
            if not claimed:
                continue
            membership = Membership.objects.select_for_update().get(offers__pk=offer_id)
            if membership.status == Membership.Status.OFFERED:
                missed = membership.offers_missed + 1
                _place(membership, Membership.Status.WAITING, now=now, offers_missed=missed)
            offer_free_places(group=group, now=now)
            expired += 1
            logger.info("group.offer_expired", extra={"offer_id": offer_id})
    return expired


@transaction.atomic
def waiting_list_stay(*, user: User, membership: Membership) -> Membership:
    """Someone we stopped offering places to says they still want one: they get a free place
    now if there is one, otherwise offers again when it is their turn."""
    if membership.user_id != user.pk:
        raise PermissionDenied
    group = _lock(membership.group)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status != Membership.Status.WAITING or not membership.offers_missed:
        return membership
    _check_eligible(user, group)
    membership.offers_missed = 0
    membership.save(update_fields=["offers_missed", "updated_at"])
    offers = offer_free_places(group=group)
    # They are here and said yes, so an offer made to them now is taken up at once.
    mine = next((offer for offer in offers if offer.membership_id == membership.pk), None)
    if mine is not None:
        return offer_accept(user=user, offer=mine)
    return membership


# --- facilitators and coordinators ----------------------------------------------------------


@transaction.atomic
def membership_add(*, by: User, group: Group, user: User) -> Membership:
    """A facilitator or coordinator adds someone from the programme (when there is a place)."""
    require_moderator(by, group)
    group = _lock(group)
    if not Enrolment.objects.filter(
        user=user, programme_id=group.programme_id, status="active"
    ).exists():
        raise NotEligible(_("This person is not in the programme."))
    membership = Membership.objects.filter(group=group, user=user).first()
    if membership is not None and membership.status in (
        Membership.Status.MEMBER,
        Membership.Status.OFFERED,
    ):
        raise AlreadyInGroup(_("This person is already in the group."))
    if places_taken(group) >= group.capacity:
        raise GroupFull(_("The group is full. Add more places first, or use the waiting list."))
    membership = membership or Membership(group=group, user=user)
    membership.added_by = by
    _place(membership, Membership.Status.MEMBER, now=timezone.now())
    return membership


@transaction.atomic
def membership_approve(*, by: User, membership: Membership) -> Membership:
    """Say yes to a request to join: a place if free, otherwise the waiting list."""
    require_moderator(by, membership.group)
    group = _lock(membership.group)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status != Membership.Status.PENDING:
        return membership
    _admit(group, membership, now=timezone.now())
    return membership


@transaction.atomic
def membership_remove(*, by: User, membership: Membership) -> Membership:
    """Take someone out of the group, its waiting list or its requests."""
    require_moderator(by, membership.group)
    return _leave(membership)
