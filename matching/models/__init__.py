from __future__ import annotations

from .onboarding import (
    MAX_CAPACITY,
    BuddyRequest,
    ScreeningStep,
    SupporterProfile,
    TrainingCompletion,
    TrainingModule,
)
from .pairings import CheckIn, Concern, ContactLog, Message, Notice, Pairing
from .runs import MatchRun, MatchSettings, PairRule, Proposal

__all__ = [
    "MAX_CAPACITY",
    "BuddyRequest",
    "CheckIn",
    "Concern",
    "ContactLog",
    "MatchRun",
    "MatchSettings",
    "Message",
    "Notice",
    "PairRule",
    "Pairing",
    "Proposal",
    "ScreeningStep",
    "SupporterProfile",
    "TrainingCompletion",
    "TrainingModule",
]
