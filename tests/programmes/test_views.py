"""Every programmes view, for each role that may use it and each that may not."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from programmes.models import Enrolment, Programme
from tests import factories

pytestmark = pytest.mark.django_db


def _is_checked(body: str, value: str) -> bool:
    radios = re.findall(r"<input[^>]*radio[^>]*>", body)
    return any(f'value="{value}"' in radio and "checked" in radio for radio in radios)


# Public pages -------------------------------------------------------------------------------


def test_directory_lists_open_programmes_only(client, programme):
    draft = factories.ProgrammeFactory(status="draft", name="Secret draft")
    response = client.get(reverse("programmes:directory"))
    body = response.content.decode()
    assert response.status_code == 200
    assert programme.name in body and draft.name not in body


def test_directory_searches_and_filters(client):
    factories.ProgrammeFactory(name="Kidney friends", condition="Kidney disease", formats="groups")
    factories.ProgrammeFactory(
        name="Heart buddies", condition="Heart failure", formats="one_to_one"
    )
    body = client.get(reverse("programmes:directory"), {"q": "kidney"}).content.decode()
    assert "Kidney friends" in body and "Heart buddies" not in body
    body = client.get(
        reverse("programmes:directory"), {"condition": "Heart failure"}
    ).content.decode()
    assert "Heart buddies" in body and "Kidney friends" not in body
    body = client.get(reverse("programmes:directory"), {"format": "groups"}).content.decode()
    assert "Kidney friends" in body and "Heart buddies" not in body


@pytest.mark.parametrize("count", [3, 30])
def test_directory_runs_a_bounded_number_of_queries(client, django_assert_max_num_queries, count):
    factories.ProgrammeFactory.create_batch(count)
    with django_assert_max_num_queries(4):
        client.get(reverse("programmes:directory"))


def test_detail_of_an_open_programme_is_public(client, programme):
    response = client.get(reverse("programmes:detail", args=[programme.slug]))
    assert response.status_code == 200
    assert "What happens if you join" in response.content.decode()


def test_detail_of_a_draft_is_hidden_from_the_public_and_other_organisations(
    client, organisation, coordinator, other_coordinator, member
):
    draft = factories.ProgrammeFactory(organisation=organisation, status="draft")
    url = reverse("programmes:detail", args=[draft.slug])
    assert client.get(url).status_code == 404
    for user in (member, other_coordinator):
        client.force_login(user)
        assert client.get(url).status_code == 404
    client.force_login(coordinator)
    assert client.get(url).status_code == 200


# Joining ------------------------------------------------------------------------------------


def test_joining_needs_sign_in(client, programme):
    response = client.get(reverse("programmes:join", args=[programme.slug]))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_a_signed_in_person_joins_as_a_caregiver(client, programme, stranger):
    client.force_login(stranger)
    url = reverse("programmes:join", args=[programme.slug])
    assert _is_checked(client.get(url + "?role=caregiver").content.decode(), "caregiver")
    response = client.post(url, {"role": "caregiver", "consent": "on", "consent_version": 1})
    assert response.status_code == 302
    enrolment = Enrolment.objects.get(user=stranger)
    assert enrolment.role == "caregiver" and enrolment.consent_version == 1


def test_joining_without_consent_keeps_the_choice_and_explains(client, programme, stranger):
    client.force_login(stranger)
    response = client.post(
        reverse("programmes:join", args=[programme.slug]),
        {"role": "caregiver", "consent_version": 1},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Please tick the box" in body
    assert _is_checked(body, "caregiver")
    assert not Enrolment.objects.filter(user=stranger).exists()


def test_joining_a_closed_programme_is_refused_politely(client, stranger):
    programme = factories.ProgrammeFactory(status="closed")
    client.force_login(stranger)
    response = client.post(
        reverse("programmes:join", args=[programme.slug]),
        {"role": "patient", "consent": "on", "consent_version": 1},
    )
    assert response.status_code == 404  # closed programmes are not visible to the public


def test_volunteering_creates_an_application(client, programme, stranger):
    client.force_login(stranger)
    response = client.post(
        reverse("programmes:volunteer", args=[programme.slug]),
        {"consent": "on", "consent_version": 1},
    )
    assert response.status_code == 302
    assert Enrolment.objects.get(user=stranger).status == "applied"


def test_my_programmes_shows_only_my_enrolments(client, programme, member):
    other = factories.EnrolmentFactory(programme=factories.ProgrammeFactory(name="Not mine"))
    client.force_login(member)
    body = client.get(reverse("programmes:mine")).content.decode()
    assert programme.name in body and other.programme.name not in body


def test_my_programmes_needs_sign_in(client):
    assert client.get(reverse("programmes:mine")).status_code == 302


def test_leaving_works_for_my_own_enrolment_only(client, member, stranger):
    enrolment = Enrolment.objects.get(user=member)
    url = reverse("programmes:leave", args=[enrolment.pk])
    client.force_login(stranger)
    assert client.post(url).status_code == 404
    client.force_login(member)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    assert Enrolment.objects.get(pk=enrolment.pk).status == "left"


# Coordinator pages ----------------------------------------------------------------------------

MANAGE_GET = ["manage_detail", "manage_edit", "manage_enrol"]


@pytest.mark.parametrize("name", ["manage_list", "manage_create"])
def test_manage_pages_are_for_coordinators_only(client, name, coordinator, member, clinician):
    url = reverse(f"programmes:{name}")
    assert client.get(url).status_code == 302  # to sign in
    for user in (member, clinician):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(coordinator)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("name", MANAGE_GET)
def test_programme_manage_pages_are_scoped_to_the_organisation(
    client, name, programme, coordinator, other_coordinator, member
):
    url = reverse(f"programmes:{name}", args=[programme.pk])
    client.force_login(member)
    assert client.get(url).status_code == 403
    client.force_login(other_coordinator)
    assert client.get(url).status_code == 404
    client.force_login(coordinator)
    assert client.get(url).status_code == 200


def test_manage_list_shows_counts_for_own_organisation_only(client, coordinator, programme):
    factories.EnrolmentFactory.create_batch(2, programme=programme)
    factories.ProgrammeFactory(name="Someone else's")
    client.force_login(coordinator)
    body = client.get(reverse("programmes:manage_list")).content.decode()
    assert programme.name in body and "Someone else" not in body


def test_coordinator_creates_a_programme(client, coordinator, organisation):
    client.force_login(coordinator)
    response = client.post(
        reverse("programmes:manage_create"),
        {
            "organisation": organisation.pk,
            "name": "Kidney peers",
            "summary": "Meet people with kidney disease.",
            "description": "Groups and buddies.",
            "audience": "both",
            "condition": "Kidney disease",
            "formats": "both",
            "area": "",
            "capacity": "",
            "privacy_notice": "We keep your name.",
        },
    )
    programme = Programme.objects.get(name="Kidney peers")
    assert response.status_code == 302
    assert programme.organisation == organisation and programme.status == "draft"


def test_coordinator_cannot_create_a_programme_for_another_organisation(
    client, coordinator, other_coordinator
):
    other_org = other_coordinator.staff_memberships.get().organisation
    client.force_login(coordinator)
    response = client.post(
        reverse("programmes:manage_create"),
        {
            "organisation": other_org.pk,
            "name": "Sneaky",
            "summary": "x",
            "description": "x",
            "audience": "both",
            "condition": "x",
            "formats": "both",
            "privacy_notice": "x",
        },
    )
    assert response.status_code == 200  # the form refuses the choice
    assert not Programme.objects.filter(name="Sneaky").exists()


def test_edit_keeps_typed_values_on_error(client, coordinator, programme):
    client.force_login(coordinator)
    response = client.post(
        reverse("programmes:manage_edit", args=[programme.pk]),
        {"name": "Typed name", "summary": "", "description": "d", "audience": "both"},
    )
    assert response.status_code == 200
    assert 'value="Typed name"' in response.content.decode()
    programme.refresh_from_db()
    assert programme.name != "Typed name"


def test_edit_saves_and_versions_the_privacy_notice(client, coordinator, programme):
    client.force_login(coordinator)
    data = {
        "name": "New name",
        "summary": programme.summary,
        "description": programme.description,
        "audience": programme.audience,
        "condition": programme.condition,
        "formats": programme.formats,
        "area": "",
        "capacity": "",
        "privacy_notice": "A new notice",
    }
    assert (
        client.post(reverse("programmes:manage_edit", args=[programme.pk]), data).status_code == 302
    )
    programme.refresh_from_db()
    assert programme.name == "New name" and programme.privacy_notice_version == 2


def test_status_change_is_scoped_and_post_only(client, programme, coordinator, other_coordinator):
    url = reverse("programmes:manage_status", args=[programme.pk])
    client.force_login(other_coordinator)
    assert client.post(url, {"status": "closed"}).status_code == 404
    client.force_login(coordinator)
    assert client.get(url).status_code == 405
    client.post(url, {"status": "closed"})
    assert Programme.objects.get(pk=programme.pk).status == "closed"


def test_enrolments_page_filters_and_searches(client, coordinator, programme):
    factories.EnrolmentFactory(programme=programme, user__display_name="Alice Patient")
    factories.SupporterEnrolmentFactory(programme=programme, user__display_name="Bob Supporter")
    client.force_login(coordinator)
    url = reverse("programmes:manage_detail", args=[programme.pk])
    body = client.get(url, {"role": "supporter"}).content.decode()
    assert "Bob Supporter" in body and "Alice Patient" not in body
    body = client.get(url, {"q": "alice"}).content.decode()
    assert "Alice Patient" in body and "Bob Supporter" not in body


@pytest.mark.parametrize("count", [5, 60])
def test_enrolments_page_runs_a_bounded_number_of_queries(
    client, coordinator, programme, django_assert_max_num_queries, count
):
    factories.EnrolmentFactory.create_batch(count, programme=programme)
    client.force_login(coordinator)
    with django_assert_max_num_queries(16):
        client.get(reverse("programmes:manage_detail", args=[programme.pk]))


def test_assisted_enrolment_through_the_page(client, coordinator, programme):
    client.force_login(coordinator)
    url = reverse("programmes:manage_enrol", args=[programme.pk])
    response = client.post(url, {"display_name": "Doris", "role": "patient", "consent": "on"})
    assert response.status_code == 200
    assert "e-mail address or a phone number" in response.content.decode()
    response = client.post(
        url, {"display_name": "Doris", "phone": "01632 960123", "role": "patient", "consent": "on"}
    )
    assert response.status_code == 302
    enrolment = Enrolment.objects.get(user__display_name="Doris")
    assert enrolment.assisted_by == coordinator


def test_home_page_works_for_everyone(client, member, coordinator):
    assert client.get(reverse("home")).status_code == 200
    client.force_login(member)
    assert "Your programmes" in client.get(reverse("home")).content.decode()
    client.force_login(coordinator)
    assert "Manage programmes" in client.get(reverse("home")).content.decode()


def test_an_empty_post_shows_the_errors_instead_of_a_blank_form(client, programme, stranger):
    client.force_login(stranger)
    response = client.post(reverse("programmes:join", args=[programme.slug]), {})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()


def test_dashboard_is_for_coordinators_and_shows_their_programmes_only(
    client, coordinator, other_coordinator, member, programme
):
    url = reverse("programmes:dashboard")
    client.force_login(member)
    assert client.get(url).status_code == 403
    client.force_login(other_coordinator)
    assert programme.name not in client.get(url).content.decode()
    client.force_login(coordinator)
    factories.SupporterEnrolmentFactory(programme=programme, status="applied")
    body = client.get(url).content.decode()
    assert programme.name in body
    assert "Supporter applications" in body


@pytest.mark.parametrize("count", [2, 20])
def test_dashboard_runs_a_bounded_number_of_queries(
    client, coordinator, organisation, django_assert_max_num_queries, count
):
    for programme in factories.ProgrammeFactory.create_batch(count, organisation=organisation):
        factories.EnrolmentFactory.create_batch(2, programme=programme)
    client.force_login(coordinator)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("programmes:dashboard")).status_code == 200


def test_staff_links_sit_in_the_manage_menu(client, coordinator):
    client.force_login(coordinator)
    body = client.get(reverse("home")).content.decode()
    menu = body[body.index('class="dropdown-menu"') :]
    assert reverse("programmes:dashboard") in menu
    top = body[: body.index('class="dropdown-menu"')]
    assert f'href="{reverse("programmes:dashboard")}"' not in top
