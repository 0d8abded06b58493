from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from groups import membership as svc
from groups import tasks
from groups.errors import AlreadyInGroup, GroupFull, GroupNotOpen, NotEligible, OfferNotOpen
from groups.models import Group, Membership, WaitingListOffer
from tests import factories
from tests.groups.factories import GroupFactory, MembershipFactory, enrolled

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_group(programme):
    return GroupFactory(programme=programme, capacity=2)


def _join(group, role="patient"):
    return svc.membership_join(user=enrolled(group.programme, role), group=group)


def test_it_gives_a_place_then_the_waiting_list_when_full(small_group):
    first, second, third, fourth = (_join(small_group) for _ in range(4))
    assert [m.status for m in (first, second, third, fourth)] == [
        "member",
        "member",
        "waiting",
        "waiting",
    ]
    assert svc.waiting_position(third) == 1
    assert svc.waiting_position(fourth) == 2
    assert svc.waiting_position(first) is None


def test_it_refuses_to_join_twice(small_group):
    joined = _join(small_group)
    with pytest.raises(AlreadyInGroup):
        svc.membership_join(user=joined.user, group=small_group)


def test_it_only_lets_people_in_the_programme_and_audience_join(small_group, stranger):
    with pytest.raises(NotEligible):
        svc.membership_join(user=stranger, group=small_group)
    small_group.audience = Group.Audience.CAREGIVERS
    small_group.save()
    with pytest.raises(NotEligible):
        _join(small_group, role="patient")
    assert _join(small_group, role="caregiver").status == "member"


def test_it_refuses_closed_groups(small_group):
    small_group.status = Group.Status.CLOSED
    small_group.save()
    with pytest.raises(GroupNotOpen):
        _join(small_group)


def test_it_offers_a_freed_place_to_the_first_on_the_waiting_list(small_group):
    first, _second, third, fourth = (_join(small_group) for _ in range(4))
    svc.membership_leave(user=first.user, membership=first)
    third.refresh_from_db()
    fourth.refresh_from_db()
    assert third.status == "offered" and fourth.status == "waiting"
    offer = WaitingListOffer.objects.get(membership=third)
    assert offer.status == "open"
    assert offer.expires_at - offer.created_at == dt.timedelta(hours=48)
    assert svc.waiting_position(fourth) == 1
    # While the offer is open the place is kept: a newcomer goes on the list.
    assert _join(small_group).status == "waiting"
    svc.offer_accept(user=third.user, offer=offer)
    third.refresh_from_db()
    offer.refresh_from_db()
    assert third.status == "member" and offer.status == "accepted"
    assert small_group.memberships.members().count() == 2


def test_it_passes_an_expired_offer_to_the_next_person_once(small_group):
    first, _second, third, fourth = (_join(small_group) for _ in range(4))
    svc.membership_leave(user=first.user, membership=first)
    offer = WaitingListOffer.objects.get(membership=third)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=49), tick=False):
        assert tasks.waiting_list_offers_expire.apply().get() == 1
        assert tasks.waiting_list_offers_expire.apply().get() == 0
        with pytest.raises(OfferNotOpen):
            svc.offer_accept(user=third.user, offer=offer)
    offer.refresh_from_db()
    third.refresh_from_db()
    fourth.refresh_from_db()
    assert offer.status == "expired" and third.status == "waiting"
    assert fourth.status == "offered"
    assert WaitingListOffer.objects.filter(membership=fourth, status="open").count() == 1


def _expire_offers(hours=49):
    later = timezone.now() + dt.timedelta(hours=hours)
    with time_machine.travel(later, tick=False):
        return svc.offers_expire()


def test_it_puts_someone_whose_offer_ran_out_at_the_back_of_the_waiting_list(small_group):
    first, _second, third, fourth, fifth = (_join(small_group) for _ in range(5))
    svc.membership_leave(user=first.user, membership=first)
    assert _expire_offers() == 1
    for item in (third, fourth, fifth):
        item.refresh_from_db()
    assert (third.status, fourth.status, fifth.status) == ("waiting", "offered", "waiting")
    assert third.offers_missed == 1 and not third.offers_paused
    assert svc.waiting_position(fifth) == 1
    assert svc.waiting_position(third) == 2
    # They can still leave the list.
    svc.membership_leave(user=third.user, membership=third)
    assert Membership.objects.get(pk=third.pk).status == "left"


def test_it_stops_offering_places_after_two_offers_run_out_but_keeps_them_on_the_list(
    small_group,
):
    first, _second, third = (_join(small_group) for _ in range(3))
    svc.membership_leave(user=first.user, membership=first)
    # Nobody else is waiting, so the place is offered to them once more ...
    _expire_offers()
    third.refresh_from_db()
    assert third.status == "offered" and third.offers_missed == 1
    assert WaitingListOffer.objects.filter(membership=third, status="open").count() == 1
    # ... and after that one runs out too, no more offers: the place is open to anyone.
    _expire_offers(hours=98)
    third.refresh_from_db()
    assert third.status == "waiting" and third.offers_missed == 2 and third.offers_paused
    assert WaitingListOffer.objects.filter(membership=third).count() == 2
    assert _expire_offers(hours=200) == 0
    newcomer = _join(small_group)
    assert newcomer.status == "member"
    assert _join(small_group).status == "waiting"


def test_it_offers_places_again_when_the_person_says_they_still_want_one(small_group):
    first, second, third = (_join(small_group) for _ in range(3))
    svc.membership_leave(user=first.user, membership=first)
    _expire_offers()
    _expire_offers(hours=98)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=100)):
        _join(small_group)  # takes the open place
        later = _join(small_group)
        third.refresh_from_db()
        assert svc.waiting_list_stay(user=third.user, membership=third).status == "waiting"
        third.refresh_from_db()
        assert third.offers_missed == 0
        assert svc.waiting_position(third) == 1 and svc.waiting_position(later) == 2
        svc.membership_leave(user=second.user, membership=second)
        third.refresh_from_db()
        assert third.status == "offered"


def test_it_gives_a_free_place_at_once_to_someone_who_still_wants_one(small_group, stranger):
    first, _second, third = (_join(small_group) for _ in range(3))
    svc.membership_leave(user=first.user, membership=first)
    _expire_offers()
    _expire_offers(hours=98)
    third.refresh_from_db()
    with pytest.raises(PermissionDenied):
        svc.waiting_list_stay(user=stranger, membership=third)
    assert svc.waiting_list_stay(user=third.user, membership=third).status == "member"
    assert small_group.memberships.members().count() == 2
    assert not WaitingListOffer.objects.filter(membership=third, status="open").exists()


def test_a_new_offer_or_joining_again_starts_the_count_of_missed_offers_afresh(small_group):
    first, second, third, fourth = (_join(small_group) for _ in range(4))
    svc.membership_leave(user=first.user, membership=first)
    _expire_offers()  # third misses; fourth is offered
    fourth_offer = WaitingListOffer.objects.get(membership=fourth)
    svc.offer_decline(user=fourth.user, offer=fourth_offer)  # third is offered again
    third.refresh_from_db()
    assert third.status == "offered"
    offer = WaitingListOffer.objects.get(membership=third, status="open")
    svc.offer_accept(user=third.user, offer=offer)
    third.refresh_from_db()
    assert third.status == "member" and third.offers_missed == 0


def test_it_offers_the_next_person_when_an_offer_is_declined(small_group):
    first, _second, third, fourth = (_join(small_group) for _ in range(4))
    svc.membership_leave(user=first.user, membership=first)
    offer = WaitingListOffer.objects.get(membership=third)
    svc.offer_decline(user=third.user, offer=offer)
    offer.refresh_from_db()
    fourth.refresh_from_db()
    assert offer.status == "declined" and fourth.status == "offered"


def test_it_does_not_let_someone_else_answer_an_offer(small_group, stranger):
    first, _second, third = (_join(small_group) for _ in range(3))
    svc.membership_leave(user=first.user, membership=first)
    offer = WaitingListOffer.objects.get(membership=third)
    with pytest.raises(PermissionDenied):
        svc.offer_accept(user=stranger, offer=offer)


def test_it_lets_a_leaver_join_again(small_group):
    first = _join(small_group)
    svc.membership_leave(user=first.user, membership=first)
    assert svc.membership_join(user=first.user, group=small_group).status == "member"


def test_it_asks_for_approval_and_the_facilitator_says_yes(small_group):
    small_group.join_policy = Group.JoinPolicy.APPROVAL
    small_group.save()
    facilitator = factories.SupporterEnrolmentFactory(programme=small_group.programme).user
    small_group.facilitators.add(facilitator)
    request = _join(small_group)
    assert request.status == "pending"
    with pytest.raises(PermissionDenied):
        svc.membership_approve(by=request.user, membership=request)
    assert svc.membership_approve(by=facilitator, membership=request).status == "member"


def test_it_puts_an_approved_request_on_the_waiting_list_when_full(small_group, coordinator):
    MembershipFactory.create_batch(2, group=small_group)
    small_group.join_policy = Group.JoinPolicy.APPROVAL
    small_group.save()
    request = _join(small_group)
    assert svc.membership_approve(by=coordinator, membership=request).status == "waiting"


def test_it_lets_coordinators_add_and_remove_members(small_group, coordinator, other_coordinator):
    person = enrolled(small_group.programme)
    with pytest.raises(PermissionDenied):
        svc.membership_add(by=other_coordinator, group=small_group, user=person)
    added = svc.membership_add(by=coordinator, group=small_group, user=person)
    assert added.status == "member" and added.added_by == coordinator
    svc.membership_add(by=coordinator, group=small_group, user=enrolled(small_group.programme))
    with pytest.raises(GroupFull):
        svc.membership_add(by=coordinator, group=small_group, user=enrolled(small_group.programme))
    waiting = _join(small_group)
    svc.membership_remove(by=coordinator, membership=added)
    waiting.refresh_from_db()
    assert Membership.objects.get(pk=added.pk).status == "left"
    assert waiting.status == "offered"


def test_it_offers_new_places_when_the_group_grows(small_group, coordinator):
    for _ in range(3):
        _join(small_group)
    from groups import services

    services.group_update(user=coordinator, group=small_group, capacity=3)
    assert small_group.memberships.filter(status="offered").count() == 1


def test_joining_a_group_shows_a_referral_as_active_to_the_clinician(small_group):
    from referrals.models import Referral
    from tests.referrals.factories import ReferralFactory

    person = enrolled(small_group.programme)
    referral = ReferralFactory(programme=small_group.programme, user=person, status="enrolled")
    svc.membership_join(user=person, group=small_group)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACTIVE


def _send_messages(at):
    from tests.notifications.helpers import dispatch_and_send

    mail.outbox.clear()
    dispatch_and_send(at)
    return {message.to[0]: message for message in mail.outbox}


def test_someone_whose_offer_ran_out_is_told_their_new_number_on_the_list(small_group):
    first, _second, third, fourth, fifth = (_join(small_group) for _ in range(5))
    svc.membership_leave(user=first.user, membership=first)
    later = timezone.now() + dt.timedelta(hours=49)
    assert svc.offers_expire(now=later) == 1
    sent = _send_messages(later + dt.timedelta(minutes=1))
    told = sent[third.user.email]
    assert told.subject.endswith(f"Your offer of a place in “{small_group.name}” has ended")
    assert "You are still on the waiting list. You are number 2." in told.body
    assert "A place is free" in sent[fourth.user.email].subject
    assert fifth.user.email not in sent
    # Told once only.
    assert third.user.email not in _send_messages(later + dt.timedelta(minutes=2))


def test_an_offer_running_out_again_says_we_stop_offering_but_a_new_offer_says_nothing_of_it(
    small_group,
):
    first, _second, third = (_join(small_group) for _ in range(3))
    svc.membership_leave(user=first.user, membership=first)
    later = timezone.now() + dt.timedelta(hours=49)
    svc.offers_expire(now=later)
    # Nobody else waits, so the place is offered to them again at once: that offer is the news.
    sent = _send_messages(later + dt.timedelta(minutes=1))
    assert "A place is free" in sent[third.user.email].subject
    much_later = later + dt.timedelta(hours=49)
    svc.offers_expire(now=much_later)
    told = _send_messages(much_later + dt.timedelta(minutes=1))[third.user.email]
    assert "has ended" in told.subject
    assert "We will not offer you more places unless you tell us you still want one." in told.body


def test_nobody_hears_their_offer_ran_out_after_they_left_the_list(small_group):
    first, _second, third, _fourth = (_join(small_group) for _ in range(4))
    svc.membership_leave(user=first.user, membership=first)
    later = timezone.now() + dt.timedelta(hours=49)
    svc.offers_expire(now=later)
    third.refresh_from_db()
    svc.membership_leave(user=third.user, membership=third)
    assert third.user.email not in _send_messages(later + dt.timedelta(minutes=1))
