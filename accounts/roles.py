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
    # An authenticator app is set up: staff must have one (RequireStaffMFAMiddleware).
    has_totp: bool = False

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
    from allauth.mfa.models import Authenticator
    from django.db.models import CharField, IntegerField, Value

    from programmes.models import Enrolment, StaffMembership
    from referrals.models import Clinician

    def tagged(queryset, kind: str, org_id, value):
        return queryset.values_list(Value(kind, output_field=CharField()), org_id, value).order_by()

    zero = Value(0, output_field=IntegerField())
    # One query for every role (and the staff MFA check) instead of one per kind.
    rows = list(
        tagged(StaffMembership.objects.filter(user=user), "staff", "organisation_id", "role").union(
            tagged(Enrolment.objects.filter(user=user, status="active"), "enrolment", zero, "role"),
            tagged(Clinician.objects.filter(user=user), "clinician", zero, "status"),
            tagged(
                Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP),
                "totp",
                zero,
                "type",
            ),
            all=True,
        )
    )
    staff = [(org, value) for kind, org, value in rows if kind == "staff"]
    enrolment_roles = {value for kind, _org, value in rows if kind == "enrolment"}
    clinician_status = next((value for kind, _org, value in rows if kind == "clinician"), None)
    roles = Roles(
        coordinator_org_ids=frozenset(org for org, _role in staff),
        admin_org_ids=frozenset(org for org, role in staff if role == "admin"),
        is_clinician=clinician_status is not None,
        is_approved_clinician=clinician_status == "approved",
        is_member=bool(enrolment_roles & {"patient", "caregiver"}),
        is_supporter="supporter" in enrolment_roles,
        has_totp=any(kind == "totp" for kind, _org, _value in rows),
    )
    user._roles_cache = roles
    return roles
