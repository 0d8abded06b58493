"""Buddy matching engine: pairs recipients with peer supporters (pure Python, numpy, OR-Tools).

Typical use::

    problem = build_problem(recipients, supporters, weights=Weights(), rules=Rules(),
                            forbidden=[(rid, sid)], pinned=[(rid, sid)])
    result = match(problem)
    for pair in result.pairs:
        breakdown(problem, pair.recipient_id, pair.supporter_id).as_tuples()
    explain_unmatched(problem, result.unmatched[0], result)
"""

from __future__ import annotations

from .model import (
    DAYS,
    FORMATS,
    PARTS_OF_DAY,
    PRIORITIES,
    ROLES,
    Problem,
    Recipient,
    Rules,
    Supporter,
    Vocabulary,
    Weights,
    build_problem,
    recipient_arrays,
    slot,
    slots,
    supporter_arrays,
)
from .scoring import SCALE, Breakdown, Criterion, breakdown
from .solve import MatchResult, Pair, RejectedPin, SolverConfig, match

__all__ = [
    "DAYS",
    "FORMATS",
    "PARTS_OF_DAY",
    "PRIORITIES",
    "ROLES",
    "SCALE",
    "Breakdown",
    "Criterion",
    "MatchResult",
    "Pair",
    "Problem",
    "Recipient",
    "RejectedPin",
    "Rules",
    "SolverConfig",
    "Supporter",
    "Vocabulary",
    "Weights",
    "breakdown",
    "build_problem",
    "match",
    "recipient_arrays",
    "slot",
    "slots",
    "supporter_arrays",
]
