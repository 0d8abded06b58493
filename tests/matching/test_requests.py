from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from matching.models import BuddyRequest
from matching.services import MatchingError
from matching.services import requests as services
from tests import factories

from .factories import EVENINGS

pytestmark = pytest.mark.django_db

WISH = {
    "wants": ["condition", "age"],
    "conditions": ["type_2_diabetes"],
    "languages": ["en"],
    "availability": EVENINGS,
    "formats": ["phone", "video"],
    "preferred_format": "video",
    "notes": "I am new to this.",
}


@pytest.fixture
def enrolment(member, programme):
    return member.enrolments.get(programme=programme)


def test_a_member_asks_for_a_buddy(member, enrolment):
    request = services.buddy_request_create(actor=member, enrolment=enrolment, **WISH)
    assert request.status == "waiting" and not request.is_assisted


def test_a_member_cannot_ask_twice(member, enrolment):
    services.buddy_request_create(actor=member, enrolment=enrolment, **WISH)
    with pytest.raises(MatchingError):
        services.buddy_request_create(actor=member, enrolment=enrolment, **WISH)


def test_a_coordinator_asks_for_someone_and_it_is_recorded_as_assisted(coordinator, enrolment):
    request = services.buddy_request_create(actor=coordinator, enrolment=enrolment, **WISH)
    assert request.assisted_by == coordinator


def test_a_stranger_or_other_coordinator_cannot_ask_for_someone(
    stranger, other_coordinator, enrolment
):
    for actor in (stranger, other_coordinator):
        with pytest.raises(PermissionDenied):
            services.buddy_request_create(actor=actor, enrolment=enrolment, **WISH)


def test_a_supporter_enrolment_cannot_ask(programme):
    enrolment = factories.SupporterEnrolmentFactory(programme=programme)
    with pytest.raises(MatchingError):
        services.buddy_request_create(actor=enrolment.user, enrolment=enrolment, **WISH)


def test_a_request_needs_language_format_and_time(member, enrolment):
    for missing in ("languages", "formats", "availability"):
        with pytest.raises(MatchingError):
            services.buddy_request_create(
                actor=member,
                enrolment=enrolment,
                **{**WISH, missing: [] if missing != "availability" else 0},
            )


def test_a_member_withdraws(member, enrolment):
    request = services.buddy_request_create(actor=member, enrolment=enrolment, **WISH)
    services.buddy_request_withdraw(actor=member, request=request)
    assert BuddyRequest.objects.get(pk=request.pk).status == "closed"


def test_the_form_works_for_the_member(client, member, enrolment):
    client.force_login(member)
    url = reverse("matching:request_buddy", args=[enrolment.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "wants": ["condition"],
            "languages": ["en"],
            "availability": ["2", "5"],
            "formats": ["phone"],
        },
    )
    assert response.status_code == 302
    request = BuddyRequest.objects.get(enrolment=enrolment)
    assert request.availability == (1 << 2) | (1 << 5)
    page = client.get(reverse("programmes:mine"))
    assert b"waiting for a buddy" in page.content


def test_the_form_shows_an_error_summary(client, member, enrolment):
    client.force_login(member)
    page = client.post(reverse("matching:request_buddy", args=[enrolment.pk]), {})
    assert page.status_code == 200 and b"There is a problem" in page.content


def test_someone_else_cannot_open_a_members_form(client, stranger, enrolment):
    client.force_login(stranger)
    assert client.get(reverse("matching:request_buddy", args=[enrolment.pk])).status_code == 404


def test_the_coordinator_fills_in_the_form_for_someone(client, coordinator, programme, enrolment):
    client.force_login(coordinator)
    page = client.get(reverse("matching:manage_requests", args=[programme.pk]))
    assert page.status_code == 200
    url = reverse("matching:manage_request_new", args=[programme.pk, enrolment.pk])
    response = client.post(url, {"languages": ["en"], "availability": ["1"], "formats": ["phone"]})
    assert response.status_code == 302
    assert BuddyRequest.objects.get(enrolment=enrolment).assisted_by == coordinator


def test_another_organisations_coordinator_cannot_fill_it_in(
    client, other_coordinator, programme, enrolment
):
    client.force_login(other_coordinator)
    url = reverse("matching:manage_request_new", args=[programme.pk, enrolment.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("matching:manage_requests", args=[programme.pk])).status_code == 404


def test_requests_list_queries_do_not_grow(
    client, coordinator, programme, django_assert_max_num_queries
):
    from .factories import BuddyRequestFactory

    client.force_login(coordinator)
    url = reverse("matching:manage_requests", args=[programme.pk])
    BuddyRequestFactory.create_batch(2, enrolment__programme=programme)
    with django_assert_max_num_queries(20):
        client.get(url)
    BuddyRequestFactory.create_batch(20, enrolment__programme=programme)
    with django_assert_max_num_queries(20):
        assert client.get(url).status_code == 200
