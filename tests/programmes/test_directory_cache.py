"""The public directory is kept in the cache for visitors, and never shows stale programmes."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from programmes.models import Programme
from tests import factories

pytestmark = pytest.mark.django_db

URL = reverse("programmes:directory")


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_it_answers_a_visitor_from_the_cache_with_one_query(
    client, programme, django_assert_num_queries
):
    client.get(URL)
    with django_assert_num_queries(1):
        response = client.get(URL)
    assert response.status_code == 200
    assert programme.name in response.content.decode()
    assert "csrftoken" in response.cookies or "X-CSRFToken" in response.content.decode()


def test_it_shows_a_newly_opened_programme_at_once(client, programme):
    client.get(URL)
    factories.ProgrammeFactory(name="Brand new friends", status="open")
    assert "Brand new friends" in client.get(URL).content.decode()


def test_it_hides_a_closed_programme_at_once(client, programme):
    assert programme.name in client.get(URL).content.decode()
    programme.status = Programme.Status.CLOSED
    programme.save()
    assert programme.name not in client.get(URL).content.decode()


def test_it_shows_an_edited_programme_at_once(client, programme):
    client.get(URL)
    programme.name = "A better name"
    programme.save()
    assert "A better name" in client.get(URL).content.decode()


def test_it_keeps_each_search_apart(client):
    factories.ProgrammeFactory(name="Kidney friends", condition="Kidney disease")
    factories.ProgrammeFactory(name="Heart buddies", condition="Heart failure")
    assert "Heart buddies" in client.get(URL).content.decode()
    body = client.get(URL, {"q": "kidney"}).content.decode()
    assert "Kidney friends" in body and "Heart buddies" not in body


def test_it_draws_the_page_afresh_for_signed_in_people(client, member, programme):
    client.force_login(member)
    client.get(URL)
    programme.organisation.name = "Renamed charity"
    programme.organisation.save()
    assert "Renamed charity" in client.get(URL).content.decode()
