from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from matching.models import ScreeningStep, SupporterProfile
from matching.services import IllegalTransition, MatchingError
from matching.services import onboarding as services
from programmes.models import Enrolment
from tests import factories

from .factories import EVENINGS, SupporterProfileFactory, passed_screening

pytestmark = pytest.mark.django_db

OFFER = {
    "lived_experience": "I cared for my dad.",
    "lived_roles": ["caregiver"],
    "conditions": ["cancer"],
    "experiences": ["caring_role"],
    "age_group": "45_64",
    "languages": ["en", "pl"],
    "availability": EVENINGS,
    "formats": ["phone", "in_person"],
    "town": "leeds",
    "capacity": 2,
    "will_not_support": ["self_harm"],
    "will_not_support_notes": "",
}


@pytest.fixture
def applicant(programme):
    return factories.SupporterEnrolmentFactory(programme=programme, status="applied")


def test_it_saves_an_applicants_profile(applicant):
    profile = services.supporter_profile_save(user=applicant.user, enrolment=applicant, **OFFER)
    assert profile.enrolment == applicant
    assert profile.capacity == 2 and profile.town == "leeds"
    again = services.supporter_profile_save(
        user=applicant.user, enrolment=applicant, **{**OFFER, "capacity": 1}
    )
    assert again.pk == profile.pk and again.capacity == 1


def test_it_needs_a_town_to_meet_in_person(applicant):
    with pytest.raises(MatchingError):
        services.supporter_profile_save(
            user=applicant.user, enrolment=applicant, **{**OFFER, "town": ""}
        )


def test_it_refuses_someone_elses_enrolment(applicant, stranger):
    with pytest.raises(PermissionDenied):
        services.supporter_profile_save(user=stranger, enrolment=applicant, **OFFER)


def test_it_approves_only_after_screening(applicant, coordinator):
    profile = services.supporter_profile_save(user=applicant.user, enrolment=applicant, **OFFER)
    with pytest.raises(MatchingError, match="Interview"):
        services.supporter_approve(coordinator=coordinator, profile=profile)
    for kind in ScreeningStep.Kind.values:
        services.screening_step_record(
            coordinator=coordinator,
            profile=profile,
            kind=kind,
            done_on=timezone.localdate(),
            outcome="passed",
        )
    services.supporter_approve(coordinator=coordinator, profile=profile)
    applicant.refresh_from_db()
    assert applicant.status == Enrolment.Status.ACTIVE
    with pytest.raises(IllegalTransition):
        services.supporter_approve(coordinator=coordinator, profile=profile)


def test_it_declines_with_a_reason(applicant, coordinator):
    profile = services.supporter_profile_save(user=applicant.user, enrolment=applicant, **OFFER)
    with pytest.raises(MatchingError):
        services.supporter_decline(coordinator=coordinator, profile=profile, reason=" ")
    services.supporter_decline(coordinator=coordinator, profile=profile, reason="References")
    applicant.refresh_from_db()
    assert applicant.status == "declined" and applicant.decline_reason == "References"


def test_a_coordinator_of_another_organisation_cannot_screen(applicant, other_coordinator):
    profile = services.supporter_profile_save(user=applicant.user, enrolment=applicant, **OFFER)
    with pytest.raises(PermissionDenied):
        services.screening_step_record(
            coordinator=other_coordinator,
            profile=profile,
            kind="interview",
            done_on=timezone.localdate(),
            outcome="passed",
        )
    with pytest.raises(PermissionDenied):
        services.supporter_approve(coordinator=other_coordinator, profile=profile)


def test_training_is_current_only_when_complete_and_not_expired(programme, coordinator):
    profile = SupporterProfileFactory(enrolment__programme=programme)
    module = services.training_module_create(
        coordinator=coordinator, programme=programme, name="Boundaries", valid_for_days=365
    )
    assert services.training_missing(profile) == ["Boundaries"]
    services.training_record(
        coordinator=coordinator,
        profile=profile,
        module=module,
        completed_on=timezone.localdate() - datetime.timedelta(days=400),
    )
    assert services.training_missing(profile) == ["Boundaries"]
    services.training_record(
        coordinator=coordinator, profile=profile, module=module, completed_on=timezone.localdate()
    )
    assert services.training_missing(profile) == []


def test_a_supporter_pauses_and_changes_capacity(supporter_profile, supporter):
    until = timezone.localdate() + datetime.timedelta(days=10)
    services.supporter_pause(
        user=supporter, profile=supporter_profile, until=until, reason="Holiday"
    )
    assert supporter_profile.is_paused()
    services.supporter_resume(user=supporter, profile=supporter_profile)
    assert not supporter_profile.is_paused()
    services.supporter_set_capacity(user=supporter, profile=supporter_profile, capacity=3)
    assert SupporterProfile.objects.get(pk=supporter_profile.pk).capacity == 3
    with pytest.raises(MatchingError):
        services.supporter_set_capacity(user=supporter, profile=supporter_profile, capacity=0)
    with pytest.raises(MatchingError):
        services.supporter_pause(
            user=supporter,
            profile=supporter_profile,
            until=timezone.localdate() - datetime.timedelta(days=1),
        )


def test_someone_else_cannot_pause_a_supporter(supporter_profile, stranger):
    with pytest.raises(PermissionDenied):
        services.supporter_pause(
            user=stranger, profile=supporter_profile, until=timezone.localdate()
        )


# --- Views --------------------------------------------------------------------------------


def _form_data(offer):
    data = {k: v for k, v in offer.items() if k != "availability"}
    data["availability"] = ["12", "14"]
    return data


def test_the_applicant_fills_in_the_form(client, applicant):
    client.force_login(applicant.user)
    url = reverse("matching:supporter_profile", args=[applicant.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"Monday" in page.content
    response = client.post(url, _form_data(OFFER))
    assert response.status_code == 302
    profile = SupporterProfile.objects.get(enrolment=applicant)
    assert profile.availability == (1 << 12) | (1 << 14)


def test_the_my_programmes_card_links_to_the_form(client, applicant):
    client.force_login(applicant.user)
    page = client.get(reverse("programmes:mine"))
    assert reverse("matching:supporter_profile", args=[applicant.pk]).encode() in page.content


def test_another_person_cannot_open_the_form(client, applicant, stranger):
    client.force_login(stranger)
    assert client.get(reverse("matching:supporter_profile", args=[applicant.pk])).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, applicant):
    response = client.get(reverse("matching:supporter_profile", args=[applicant.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_coordinator_screens_trains_and_approves(client, coordinator, applicant):
    profile = services.supporter_profile_save(user=applicant.user, enrolment=applicant, **OFFER)
    programme = applicant.programme
    module = services.training_module_create(
        coordinator=coordinator, programme=programme, name="Safety"
    )
    client.force_login(coordinator)
    assert client.get(reverse("matching:manage_supporter", args=[profile.pk])).status_code == 200
    today = timezone.localdate().isoformat()
    for kind in ScreeningStep.Kind.values:
        client.post(
            reverse("matching:manage_supporter_action", args=[profile.pk, "step"]),
            {"kind": kind, "done_on": today, "outcome": "passed", "notes": "ok"},
        )
    client.post(
        reverse("matching:manage_supporter_action", args=[profile.pk, "training"]),
        {"module": module.pk, "completed_on": today},
    )
    client.post(reverse("matching:manage_supporter_action", args=[profile.pk, "approve"]))
    applicant.refresh_from_db()
    assert applicant.status == "active"
    assert profile.training.count() == 1


def test_the_coordinator_of_another_organisation_sees_nothing(
    client, other_coordinator, supporter_profile, programme
):
    client.force_login(other_coordinator)
    assert (
        client.get(reverse("matching:manage_supporter", args=[supporter_profile.pk])).status_code
        == 404
    )
    assert client.get(reverse("matching:manage_supporters", args=[programme.pk])).status_code == 404
    response = client.post(
        reverse("matching:manage_supporter_action", args=[supporter_profile.pk, "approve"])
    )
    assert response.status_code == 404


def test_members_cannot_use_coordinator_pages(client, member, supporter_profile, programme):
    client.force_login(member)
    assert (
        client.get(reverse("matching:manage_supporter", args=[supporter_profile.pk])).status_code
        == 403
    )
    assert client.get(reverse("matching:manage_training", args=[programme.pk])).status_code == 403


def test_supporters_list_queries_do_not_grow(
    client, coordinator, programme, django_assert_max_num_queries
):
    client.force_login(coordinator)
    url = reverse("matching:manage_supporters", args=[programme.pk])
    SupporterProfileFactory.create_batch(2, enrolment__programme=programme)
    with django_assert_max_num_queries(20):
        client.get(url)
    SupporterProfileFactory.create_batch(15, enrolment__programme=programme)
    with django_assert_max_num_queries(20):
        assert client.get(url).status_code == 200


def test_a_supporter_takes_a_break_from_their_page(client, supporter_profile, supporter):
    client.force_login(supporter)
    url = reverse("matching:supporter_availability", args=[supporter_profile.enrolment_id])
    until = (timezone.localdate() + datetime.timedelta(days=7)).isoformat()
    client.post(url, {"action": "pause", "until": until, "reason": "Holiday"})
    supporter_profile.refresh_from_db()
    assert supporter_profile.is_paused()
    client.post(url, {"action": "capacity", "capacity": 2})
    supporter_profile.refresh_from_db()
    assert supporter_profile.capacity == 2


def test_passed_screening_helper(supporter_profile):
    passed_screening(supporter_profile)
    assert services.screening_missing(supporter_profile) == []
