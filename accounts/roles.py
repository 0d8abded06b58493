"""What a person may do on the platform, worked out once per request."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Roles:
    coordinator_org_ids: frozenset[int] = field(default_factory=frozenset)
    admin_org_ids: frozenset[int] = field(default_factory=frozenset)
    is_clinician: bool = False
    is_approved_clinician: bool = False
    is_member: bool = False
    is_supporter: bool = False

    @property
    def is_staff_of_any_org(self) -> bool:
        """Coordinators and organisation admins: the people who must use MFA."""
        return bool(self.coordinator_org_ids or self.admin_org_ids)

    @property
    def is_coordinator(self) -> bool:
        return self.is_staff_of_any_org

    @property
    def is_org_admin(self) -> bool:
        return bool(self.admin_org_ids)


NO_ROLES = Roles()


def roles_for(user) -> Roles:
    """The roles `user` holds, cached on the user object for the rest of the request."""
    if user is None or not user.is_authenticated:
        return NO_ROLES
    cached = getattr(user, "_roles_cache", None)
    if cached is not None:
        return cached
    from programmes.models import Enrolment, StaffMembership
    from referrals.models import Clinician

    staff = list(StaffMembership.objects.filter(user=user).values_list("organisation_id", "role"))
    enrolment_roles = set(
        Enrolment.objects.filter(user=user, status="active").values_list("role", flat=True)
    )
    clinician_status = Clinician.objects.filter(user=user).values_list("status", flat=True).first()
    roles = Roles(
        coordinator_org_ids=frozenset(org for org, _role in staff),
        admin_org_ids=frozenset(org for org, role in staff if role == "admin"),
        is_clinician=clinician_status is not None,
        is_approved_clinician=clinician_status == "approved",
        is_member=bool(enrolment_roles & {"patient", "caregiver"}),
        is_supporter="supporter" in enrolment_roles,
    )
    user._roles_cache = roles
    return roles
