"""What a person may do on the platform, worked out once per request."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from allauth.mfa.models import Authenticator
from django.db import connection


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


@cache
def _roles_sql() -> str:
    """One query for every role and the staff MFA check, instead of one query per kind.

    Plain SQL: the ORM spent more CPU compiling the same UNION (about 2 ms) than the four
    separate queries it replaced. Table and column names come from the models.
    """
    from programmes.models import Enrolment, StaffMembership
    from referrals.models import Clinician

    def select(kind: str, model, org: str | None, value: str, where: str = "") -> str:
        def col(name: str) -> str:
            return connection.ops.quote_name(model._meta.get_field(name).column)

        table = connection.ops.quote_name(model._meta.db_table)
        org_column = col(org) if org else "0"
        # Only identifiers from the models' metadata are put in the text; values are parameters.
        return (
            f"SELECT '{kind}', {org_column}, {col(value)} FROM {table}"  # noqa: S608
            f" WHERE {col('user')} = %(user)s{where and f' AND {col(where)} = %({where})s'}"
        )

    return " UNION ALL ".join(
        [
            select("staff", StaffMembership, "organisation", "role"),
            select("enrolment", Enrolment, None, "role", where="status"),
            select("clinician", Clinician, None, "status"),
            select("totp", Authenticator, None, "type", where="type"),
        ]
    )


def roles_for(user) -> Roles:
    """The roles `user` holds, cached on the user object for the rest of the request."""
    if user is None or not user.is_authenticated:
        return NO_ROLES
    cached = getattr(user, "_roles_cache", None)
    if cached is not None:
        return cached
    with connection.cursor() as cursor:
        cursor.execute(
            _roles_sql(), {"user": user.pk, "status": "active", "type": Authenticator.Type.TOTP}
        )
        rows = cursor.fetchall()
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
