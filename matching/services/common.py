"""Errors and permission checks shared by the matching services."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from programmes.models import Programme


class MatchingError(ValidationError):
    """A request the matching rules do not allow; its message is shown to the person."""


class IllegalTransition(MatchingError):
    """A pairing or proposal cannot move to the state asked for from the one it is in."""


class RunAlreadyActive(MatchingError):
    pass


class ContactDetailsHeldBack(MatchingError):
    pass


def require_manager(*, user: User, programme: Programme) -> None:
    """Raise PermissionDenied unless `user` coordinates the programme's organisation."""
    if not Programme.objects.managed_by(user).filter(pk=programme.pk).exists():
        raise PermissionDenied


def is_manager(*, user: User, programme: Programme) -> bool:
    return Programme.objects.managed_by(user).filter(pk=programme.pk).exists()
