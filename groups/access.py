"""Who may do what with one group. Each check is one small query."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from accounts.roles import roles_for

from .models import Group, Membership


def can_manage(user, group: Group) -> bool:
    """Coordinators of the group's programme."""
    return Group.objects.managed_by(user).filter(pk=group.pk).exists()


def can_moderate(user, group: Group) -> bool:
    """Facilitators of the group and coordinators of its programme."""
    return Group.objects.moderated_by(user).filter(pk=group.pk).exists()


def can_moderate_loaded(user, group: Group) -> bool:
    """`can_moderate` without a query, for a group read with its programme and prefetched
    facilitators: the roles come from this request's `roles_for`, read fresh each request."""
    if not user.is_authenticated:
        return False
    if group.programme.organisation_id in roles_for(user).coordinator_org_ids:
        return True
    return any(person.pk == user.pk for person in group.facilitators.all())


def is_member(user, group: Group) -> bool:
    return (
        user.is_authenticated
        and Membership.objects.filter(group=group, user=user, status="member").exists()
    )


def require_manager(user, group: Group) -> None:
    if not can_manage(user, group):
        raise PermissionDenied


def require_moderator(user, group: Group) -> None:
    if not can_moderate(user, group):
        raise PermissionDenied
