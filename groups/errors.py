"""Domain errors. Views turn them into messages; each says what to do next in plain words."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class GroupError(ValidationError):
    pass


class GroupNotOpen(GroupError):
    pass


class NotEligible(GroupError):
    pass


class AlreadyInGroup(GroupError):
    pass


class GroupFull(GroupError):
    pass


class OfferNotOpen(GroupError):
    pass


class SessionNotChangeable(GroupError):
    pass


class GuidelinesNotAccepted(GroupError):
    pass


class PostingTooFast(GroupError):
    pass


class ThreadLocked(GroupError):
    pass


class SessionFull(GroupError):
    pass
