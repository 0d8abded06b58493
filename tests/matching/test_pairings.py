from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from matching.models import BuddyRequest, Message, Notice, Pairing
from matching.services import ContactDetailsHeldBack, IllegalTransition, MatchingError
from matching.services import pairings as services
from matching.services import runs as run_services
from matching.solver import settings_for
from tests import factories

from .conftest import make_pairing
from .factories import SupporterProfileFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def introduced(programme):
    return make_pairing(programme, "introduced")


def people(pairing):
    return pairing.recipient.user, pairing.supporter.enrolment.user


# --- Lifecycle ------------------------------------------------------------------------------


def test_it_walks_from_proposed_to_active(
    coordinator, programme, django_capture_on_commit_callbacks
):
    pairing = make_pairing(programme, "proposed")
    recipient, supporter = people(pairing)
    with django_capture_on_commit_callbacks(execute=True):
        services.pairing_introduce(coordinator=coordinator, pairing=pairing)
    assert {m.to[0] for m in mail.outbox} == {recipient.email, supporter.email}
    assert all("sign in" in m.body.lower() for m in mail.outbox)
    pairing = services.pairing_accept(user=recipient, pairing=pairing, agreed=True)
    assert pairing.status == "introduced"
    pairing = services.pairing_accept(user=supporter, pairing=pairing, agreed=True)
    assert pairing.status == "active" and pairing.activated_at


def test_accepting_twice_is_refused_clearly(introduced):
    recipient, _supporter = people(introduced)
    services.pairing_accept(user=recipient, pairing=introduced, agreed=True)
    with pytest.raises(IllegalTransition, match="already accepted"):
        services.pairing_accept(user=recipient, pairing=introduced, agreed=True)


def test_accepting_needs_the_agreement(introduced):
    recipient, _supporter = people(introduced)
    with pytest.raises(MatchingError, match="agreement"):
        services.pairing_accept(user=recipient, pairing=introduced, agreed=False)


def test_a_proposed_pairing_cannot_be_accepted_before_introduction(programme):
    pairing = make_pairing(programme, "proposed")
    with pytest.raises(IllegalTransition):
        services.pairing_accept(user=pairing.recipient.user, pairing=pairing, agreed=True)


def test_introducing_twice_is_refused(coordinator, introduced):
    with pytest.raises(IllegalTransition):
        services.pairing_introduce(coordinator=coordinator, pairing=introduced)


def test_declining_ends_it_reopens_the_request_with_priority_and_it_is_never_proposed_again(
    coordinator, programme, introduced, django_capture_on_commit_callbacks
):
    recipient, _supporter = people(introduced)
    services.pairing_decline(user=recipient, pairing=introduced, reason="Not for me")
    introduced.refresh_from_db()
    assert introduced.status == "ended" and introduced.ending == "declined"
    assert introduced.ended_by == recipient
    request = BuddyRequest.objects.get(pk=introduced.request_id)
    assert request.status == "waiting" and request.priority
    with django_capture_on_commit_callbacks(execute=True):
        run = run_services.match_run_start(coordinator=coordinator, programme=programme)
    run.refresh_from_db()
    assert run.recipients_count == 1 and run.proposals_count == 0
    assert run.unmatched[0]["reasons"][0]["code"] == "forbidden"


def test_the_recipient_ends_as_completed(pairing, django_capture_on_commit_callbacks):
    recipient, supporter = people(pairing)
    with django_capture_on_commit_callbacks(execute=True):
        services.pairing_end(user=recipient, pairing=pairing, ending="completed", reason="")
    pairing.refresh_from_db()
    assert (
        pairing.status == "ended"
        and pairing.ending == "completed"
        and pairing.ended_by == recipient
    )
    assert BuddyRequest.objects.get(pk=pairing.request_id).status == "closed"
    assert supporter.email in {m.to[0] for m in mail.outbox}


def test_ending_an_ended_pairing_is_refused_clearly(pairing):
    recipient, _ = people(pairing)
    services.pairing_end(user=recipient, pairing=pairing, ending="completed")
    with pytest.raises(IllegalTransition, match="already ended"):
        services.pairing_end(user=recipient, pairing=pairing, ending="completed")


def test_stopping_early_needs_a_reason_and_reopens_the_request(pairing):
    _, supporter = people(pairing)
    with pytest.raises(MatchingError):
        services.pairing_end(user=supporter, pairing=pairing, ending="cancelled", reason="")
    services.pairing_end(user=supporter, pairing=pairing, ending="cancelled", reason="Moving away")
    request = BuddyRequest.objects.get(pk=pairing.request_id)
    assert request.status == "waiting" and request.priority


def test_pause_and_resume(pairing, coordinator):
    recipient, _ = people(pairing)
    services.pairing_pause(user=recipient, pairing=pairing)
    with pytest.raises(IllegalTransition):
        services.pairing_pause(user=recipient, pairing=pairing)
    services.pairing_resume(user=coordinator, pairing=pairing)
    pairing.refresh_from_db()
    assert pairing.status == "active"


def test_outsiders_cannot_change_a_pairing(pairing, stranger, other_coordinator):
    for person in (stranger, other_coordinator):
        with pytest.raises(PermissionDenied):
            services.pairing_end(user=person, pairing=pairing, ending="completed")
        with pytest.raises(PermissionDenied):
            services.pairing_pause(user=person, pairing=pairing)
        with pytest.raises(PermissionDenied):
            services.message_send(user=person, pairing=pairing, body="hi")


def test_rematch_ends_and_gives_priority(coordinator, pairing):
    services.checkin_record(user=pairing.recipient.user, pairing=pairing, answer="poor")
    services.pairing_rematch(coordinator=coordinator, pairing=pairing, reason="Poor fit")
    pairing.refresh_from_db()
    assert pairing.ending == "cancelled"
    assert BuddyRequest.objects.get(pk=pairing.request_id).priority
    assert pairing.checkins.get().handled_at is not None


# --- Messages ---------------------------------------------------------------------------------


def test_messages_go_through_with_a_notice_that_holds_no_content(
    pairing, django_capture_on_commit_callbacks
):
    recipient, supporter = people(pairing)
    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(user=recipient, pairing=pairing, body="My secret worry about insulin")
    assert Message.objects.get().sender == recipient
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [supporter.email]
    assert "insulin" not in mail.outbox[0].body and "insulin" not in mail.outbox[0].subject
    notice = Notice.objects.get()
    assert notice.status == "sent"


def test_a_notice_is_sent_once(pairing, django_capture_on_commit_callbacks):
    recipient, _ = people(pairing)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.message_send(user=recipient, pairing=pairing, body="Hello")
    from matching.services.notices import notice_queue, notice_send

    notice_send(notice_id=Notice.objects.get().pk)
    key = f"message:{message.pk}:{pairing.supporter.enrolment.user_id}"
    with django_capture_on_commit_callbacks(execute=True):
        assert notice_queue(key=key, user=recipient, subject="x", body="y") is None
    assert len(mail.outbox) == 1


def test_contact_details_are_held_back_politely(pairing):
    recipient, _ = people(pairing)
    with pytest.raises(ContactDetailsHeldBack, match="keep in touch through this website"):
        services.message_send(user=recipient, pairing=pairing, body="ring me on 07700 900 123")
    assert not Message.objects.exists()


def test_contact_details_go_through_when_the_programme_allows(pairing, programme):
    settings = settings_for(programme)
    settings.allow_contact_sharing = True
    settings.save()
    recipient, _ = people(pairing)
    services.message_send(user=recipient, pairing=pairing, body="jo at gmail dot com")
    assert Message.objects.count() == 1


def test_no_messages_before_both_accept(introduced):
    recipient, _ = people(introduced)
    with pytest.raises(IllegalTransition):
        services.message_send(user=recipient, pairing=introduced, body="Hello")


# --- Contact logs, check-ins, concerns ----------------------------------------------------


def test_the_supporter_logs_contacts_and_can_ask_for_support(
    pairing, coordinator, django_capture_on_commit_callbacks
):
    recipient, supporter = people(pairing)
    with pytest.raises(PermissionDenied):
        services.contact_log_create(
            user=recipient,
            pairing=pairing,
            contact_on=timezone.localdate(),
            minutes=20,
            method="phone",
        )
    with django_capture_on_commit_callbacks(execute=True):
        log = services.contact_log_create(
            user=supporter,
            pairing=pairing,
            contact_on=timezone.localdate(),
            minutes=20,
            method="phone",
            note="Talked about diet",
            needs_support=True,
        )
    assert [m.to for m in mail.outbox] == [[coordinator.email]]
    assert "diet" not in mail.outbox[0].body
    pairing.refresh_from_db()
    assert pairing.last_contact_at is not None
    services.contact_support_given(coordinator=coordinator, log=log)
    assert log.support_given_by == coordinator
    with pytest.raises(MatchingError):
        services.contact_log_create(
            user=supporter,
            pairing=pairing,
            contact_on=timezone.localdate() + datetime.timedelta(days=1),
            minutes=20,
            method="phone",
        )


def test_the_check_in_comes_after_the_first_conversations(pairing):
    recipient, supporter = people(pairing)
    assert not services.checkin_due(user=recipient, pairing=pairing)
    for _ in range(2):
        services.contact_log_create(
            user=supporter,
            pairing=pairing,
            contact_on=timezone.localdate(),
            minutes=10,
            method="phone",
        )
    assert services.checkin_due(user=recipient, pairing=pairing)
    services.checkin_record(user=recipient, pairing=pairing, answer="good")
    assert not services.checkin_due(user=recipient, pairing=pairing)
    with pytest.raises(IllegalTransition):
        services.checkin_record(user=recipient, pairing=pairing, answer="good")


def test_a_poor_fit_tells_the_coordinator(pairing, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.checkin_record(user=pairing.recipient.user, pairing=pairing, answer="poor")
    assert mail.outbox[0].to == [coordinator.email]
    flagged = Pairing.objects.with_flags().get(pk=pairing.pk)
    assert flagged.poor_fit == 1


def test_a_concern_reaches_the_coordinators_at_once(
    pairing, coordinator, django_capture_on_commit_callbacks
):
    second = factories.CoordinatorFactory(organisation=pairing.programme.organisation).user
    with django_capture_on_commit_callbacks(execute=True):
        concern = services.concern_report(
            user=pairing.recipient.user, pairing=pairing, text="They asked for money"
        )
    assert {m.to[0] for m in mail.outbox} == {coordinator.email, second.email}
    assert all("money" not in m.body for m in mail.outbox)
    assert Pairing.objects.with_flags().get(pk=pairing.pk).open_concerns == 1
    services.concern_resolve(coordinator=coordinator, concern=concern, resolution="Called both")
    assert Pairing.objects.with_flags().get(pk=pairing.pk).open_concerns == 0
    with pytest.raises(IllegalTransition):
        services.concern_resolve(coordinator=coordinator, concern=concern, resolution="again")


def test_pairings_without_contact_for_n_days(programme):
    quiet = make_pairing(programme, "active")
    Pairing.objects.filter(pk=quiet.pk).update(
        activated_at=timezone.now() - datetime.timedelta(days=30)
    )
    recent = make_pairing(programme, "active")
    found = set(Pairing.objects.without_contact_for(14).values_list("pk", flat=True))
    assert quiet.pk in found and recent.pk not in found


def test_a_supporter_cannot_take_more_than_their_capacity(coordinator, programme):
    from .factories import BuddyRequestFactory

    supporter = SupporterProfileFactory(enrolment__programme=programme, capacity=1)
    make_pairing(programme, "active", supporter=supporter)
    request = BuddyRequestFactory(enrolment__programme=programme)
    with pytest.raises(MatchingError, match="no free place"):
        run_services.pairing_create_by_hand(
            coordinator=coordinator, request=request, supporter=supporter
        )


# --- Views ----------------------------------------------------------------------------------


def test_both_people_accept_on_the_page(client, introduced):
    recipient, supporter = people(introduced)
    url = reverse("matching:pairing", args=[introduced.pk])
    for person in (recipient, supporter):
        client.force_login(person)
        page = client.get(url)
        assert page.status_code == 200 and b"Our agreement" in page.content
        refused = client.post(
            reverse("matching:pairing_action", args=[introduced.pk, "accept"]), {}
        )
        assert b"Please tick the box" in refused.content
        client.post(
            reverse("matching:pairing_action", args=[introduced.pk, "accept"]), {"agreed": "on"}
        )
    introduced.refresh_from_db()
    assert introduced.status == "active"
    again = client.post(
        reverse("matching:pairing_action", args=[introduced.pk, "accept"]),
        {"agreed": "on"},
        follow=True,
    )
    assert b"not waiting for you to accept" in again.content


def test_a_held_back_message_is_explained_and_kept_in_the_box(client, pairing):
    client.force_login(pairing.recipient.user)
    page = client.post(
        reverse("matching:pairing_message", args=[pairing.pk]), {"body": "call 07700900123"}
    )
    assert page.status_code == 200
    assert b"keep in touch through this website" in page.content
    assert b"call 07700900123" in page.content
    assert not Message.objects.exists()


def test_nobody_sees_another_pairings_messages(client, programme, pairing):
    other = make_pairing(programme, "active")
    Message.objects.create(pairing=other, sender=other.recipient.user, body="private words")
    for person in people(pairing):
        client.force_login(person)
        assert client.get(reverse("matching:pairing", args=[other.pk])).status_code == 404
        assert (
            client.post(
                reverse("matching:pairing_message", args=[other.pk]), {"body": "x"}
            ).status_code
            == 404
        )
        page = client.get(reverse("matching:my_pairings"))
        assert b"private words" not in page.content
    client.force_login(other.recipient.user)
    assert b"private words" in client.get(reverse("matching:pairing", args=[other.pk])).content


def test_a_proposed_pairing_is_not_shown_to_the_two_people(client, programme):
    pairing = make_pairing(programme, "proposed")
    client.force_login(pairing.recipient.user)
    assert client.get(reverse("matching:pairing", args=[pairing.pk])).status_code == 404


def test_only_the_supporter_logs_contacts(client, pairing):
    client.force_login(pairing.recipient.user)
    assert client.get(reverse("matching:pairing_contact", args=[pairing.pk])).status_code == 403
    client.force_login(pairing.supporter.enrolment.user)
    url = reverse("matching:pairing_contact", args=[pairing.pk])
    assert client.get(url).status_code == 200
    client.post(
        url,
        {
            "contact_on": timezone.localdate().isoformat(),
            "minutes": 25,
            "method": "phone",
            "note": "ok",
        },
    )
    assert pairing.contact_logs.count() == 1


def test_member_pages_end_and_concern(client, pairing):
    client.force_login(pairing.recipient.user)
    client.post(reverse("matching:pairing_concern", args=[pairing.pk]), {"text": "worried"})
    assert pairing.concerns.count() == 1
    client.post(reverse("matching:pairing_end", args=[pairing.pk]), {"ending": "completed"})
    pairing.refresh_from_db()
    assert pairing.status == "ended"


def test_coordinator_pages(client, coordinator, programme):
    proposed = make_pairing(programme, "proposed")
    client.force_login(coordinator)
    assert client.get(reverse("matching:manage_pairings", args=[programme.pk])).status_code == 200
    assert (
        client.get(
            reverse("matching:manage_pairings", args=[programme.pk]) + "?show=quiet"
        ).status_code
        == 200
    )
    assert client.get(reverse("matching:manage_pairing", args=[proposed.pk])).status_code == 200
    client.post(reverse("matching:manage_pairing_action", args=[proposed.pk, "introduce"]))
    proposed.refresh_from_db()
    assert proposed.status == "introduced"
    client.post(
        reverse("matching:manage_pairing_action", args=[proposed.pk, "rematch"]),
        {"reason": "Changed mind"},
    )
    proposed.refresh_from_db()
    assert proposed.status == "ended"


def test_coordinator_of_another_organisation_sees_nothing(
    client, other_coordinator, pairing, programme
):
    concern = services.concern_report(user=pairing.recipient.user, pairing=pairing, text="x")
    client.force_login(other_coordinator)
    assert client.get(reverse("matching:manage_pairing", args=[pairing.pk])).status_code == 404
    assert client.get(reverse("matching:manage_pairings", args=[programme.pk])).status_code == 404
    assert (
        client.post(reverse("matching:manage_pairing_action", args=[pairing.pk, "end"])).status_code
        == 404
    )
    assert client.post(reverse("matching:concern_resolve", args=[concern.pk])).status_code == 404
    assert client.get(reverse("matching:pairing", args=[pairing.pk])).status_code == 404


def test_members_cannot_use_coordinator_pairing_pages(client, pairing, programme):
    client.force_login(pairing.recipient.user)
    assert client.get(reverse("matching:manage_pairing", args=[pairing.pk])).status_code == 403
    assert client.get(reverse("matching:manage_pairings", args=[programme.pk])).status_code == 403


def test_pairings_list_queries_do_not_grow(
    client, coordinator, programme, django_assert_max_num_queries
):
    client.force_login(coordinator)
    url = reverse("matching:manage_pairings", args=[programme.pk])
    for _ in range(2):
        make_pairing(programme, "active")
    with django_assert_max_num_queries(20):
        client.get(url)
    for _ in range(12):
        make_pairing(programme, "active")
    with django_assert_max_num_queries(20):
        assert client.get(url).status_code == 200


def test_my_buddies_queries_do_not_grow(client, programme, django_assert_max_num_queries):
    supporter = SupporterProfileFactory(enrolment__programme=programme, capacity=6)
    make_pairing(programme, "active", supporter=supporter)
    client.force_login(supporter.enrolment.user)
    with django_assert_max_num_queries(15):
        client.get(reverse("matching:my_pairings"))
    for _ in range(4):
        make_pairing(programme, "active", supporter=supporter)
    with django_assert_max_num_queries(15):
        assert client.get(reverse("matching:my_pairings")).status_code == 200


def test_an_active_pairing_moves_the_recipients_referral_on(introduced):
    from referrals.models import Referral
    from tests.referrals.factories import ReferralFactory

    recipient, supporter = people(introduced)
    referral = ReferralFactory(
        programme=introduced.programme, user=recipient, status=Referral.Status.ENROLLED
    )
    services.pairing_accept(user=recipient, pairing=introduced, agreed=True)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ENROLLED
    services.pairing_accept(user=supporter, pairing=introduced, agreed=True)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACTIVE
