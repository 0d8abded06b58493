"""Buddy matching engine: pairs recipients with peer supporters (pure Python, numpy, OR-Tools).

Typical use::

    problem = build_problem(recipients, supporters, weights=Weights(), rules=Rules(),
                            forbidden=[(rid, sid)], pinned=[(rid, sid)])
    result = match(problem)            # maximum total score, every hard rule kept
    for pair in result.pairs:          # Pair(recipient_id, supporter_id, units, pinned).score
        breakdown(problem, pair.recipient_id, pair.supporter_id).as_dicts()
        # [{"code": "condition", "points": 30.0, "facts": {"conditions": ["bc"], ...}}, ...]
    explain_unmatched(problem, result.unmatched, result)[0].counts
        # {"language": 18, "format": 0, ..., "full": 7, ...}

Explanations are codes and numbers, never display text: the caller turns them into words in
the reader's language.

Ids are the caller's integers. Scores are integers in hundredths of a point (`units`), so
a breakdown's points always add up to the pair's score. `result.upper_bound_units` is a proven
bound on the best possible total; `result.optimal` says the total reaches it.
"""

from __future__ import annotations

from .exact import exact
from .explain import REASONS, Unmatched, explain_unmatched
from .greedy import greedy
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
    "REASONS",
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
    "Unmatched",
    "Vocabulary",
    "Weights",
    "breakdown",
    "build_problem",
    "exact",
    "explain_unmatched",
    "greedy",
    "match",
    "recipient_arrays",
    "slot",
    "slots",
    "supporter_arrays",
]
