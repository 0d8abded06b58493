from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from programmes.models import StaffMembership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(organisation):
    return factories.CoordinatorFactory(organisation=organisation, role="admin").user


@pytest.mark.parametrize("name", ["organisation", "staff_add"])
def test_organisation_pages_are_for_its_admins_only(client, name, admin, coordinator, member):
    url = reverse(f"programmes:{name}")
    assert client.get(url).status_code == 302
    for user in (member, coordinator):
        client.force_login(user)
        assert client.get(url).status_code == 403
    client.force_login(admin)
    assert client.get(url).status_code == 200


def test_an_admin_adds_a_new_coordinator_who_gets_a_set_password_email(client, admin):
    client.force_login(admin)
    response = client.post(
        reverse("programmes:staff_add"),
        {"display_name": "New Person", "email": "new@example.org", "role": "coordinator"},
    )
    assert response.status_code == 302
    person = User.objects.get(email="new@example.org")
    assert person.staff_memberships.get().role == "coordinator"
    assert not person.has_usable_password()
    assert mail.outbox and mail.outbox[0].to == ["new@example.org"]


def test_the_last_admin_cannot_be_removed_or_demoted(client, admin):
    membership = StaffMembership.objects.get(user=admin)
    client.force_login(admin)
    url = reverse("programmes:staff_change", args=[membership.pk])
    client.post(url, {"action": "remove"})
    client.post(url, {"role": "coordinator"})
    assert StaffMembership.objects.get(pk=membership.pk).role == "admin"


def test_an_admin_changes_roles_and_removes_staff(client, admin, coordinator):
    membership = StaffMembership.objects.get(user=coordinator)
    client.force_login(admin)
    url = reverse("programmes:staff_change", args=[membership.pk])
    client.post(url, {"role": "admin"})
    assert StaffMembership.objects.get(pk=membership.pk).role == "admin"
    client.post(url, {"action": "remove"})
    assert not StaffMembership.objects.filter(pk=membership.pk).exists()


def test_an_admin_cannot_touch_another_organisations_staff(client, admin, other_coordinator):
    membership = StaffMembership.objects.get(user=other_coordinator)
    client.force_login(admin)
    url = reverse("programmes:staff_change", args=[membership.pk])
    assert client.post(url, {"action": "remove"}).status_code == 404
    assert StaffMembership.objects.filter(pk=membership.pk).exists()
    other_org = membership.organisation
    assert client.get(reverse("programmes:organisation"), {"org": other_org.pk}).status_code == 404


def test_an_admin_edits_the_organisation(client, admin, organisation):
    client.force_login(admin)
    response = client.post(
        reverse("programmes:organisation"),
        {"name": "Renamed charity", "contact_email": "hi@example.org", "contact_phone": ""},
    )
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.name == "Renamed charity"
