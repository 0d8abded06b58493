"""Who may do what with one group. Each check is one small query."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .models import Group, Membership


def can_manage(user, group: Group) -> bool:
    """Coordinators of the group's programme."""
    return Group.objects.managed_by(user).filter(pk=group.pk).exists()


def can_moderate(user, group: Group) -> bool:
    """Facilitators of the group and coordinators of its programme."""
    return Group.objects.moderated_by(user).filter(pk=group.pk).exists()


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
