"""Writes for matching. Views and tasks call these; nothing else writes matching data."""

from __future__ import annotations

from .common import (
    ContactDetailsHeldBack,
    IllegalTransition,
    MatchingError,
    RunAlreadyActive,
)

__all__ = ["ContactDetailsHeldBack", "IllegalTransition", "MatchingError", "RunAlreadyActive"]
