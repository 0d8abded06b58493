"""Why a recipient got nobody: every supporter attributed to the first rule that excludes them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constraints import HARD_CONSTRAINTS, checks
from .model import Problem
from .scoring import scores, unit_weights
from .solve import MatchResult

REASONS: tuple[str, ...] = (*HARD_CONSTRAINTS, "no_places", "full", "no_benefit", "available")
"""Reasons in attribution order; the last ones apply to supporters meeting every rule."""

_LABELS = {
    "language": "no shared language",
    "format": "no common way to meet (phone, video, in person, messaging)",
    "availability": "no overlapping weekly slot",
    "distance": "in person is the only common format and they live too far apart (or location "
    "unknown)",
    "exclusion": "supporter will not support someone in their situation",
    "forbidden": "pair not allowed (blocked, ended, same household or coordinator's decision)",
    "no_places": "supporter has no free places",
    "full": "supporter's places all went to other recipients in this run",
    "no_benefit": "compatible, but the pair scores nothing",
    "available": "compatible with a free place",
}


@dataclass(frozen=True)
class Unmatched:
    """Counts of supporters excluded by each reason, for one recipient."""

    recipient_id: int
    counts: dict[str, int]
    summary: str

    @property
    def lines(self) -> list[str]:
        """Plain-English lines such as 'no shared language: 18', skipping zero counts."""
        return [f"{_LABELS[k]}: {n}" for k, n in self.counts.items() if n]

    def __str__(self) -> str:
        return "; ".join([self.summary, *self.lines])


def explain_unmatched(
    problem: Problem, recipient_id: int, result: MatchResult | None = None
) -> Unmatched:
    """Attribute every supporter to the first hard rule excluding them (one cheap row scan).

    Supporters meeting every rule count as `no_places` (capacity 0), `full` (their places
    went to others in `result`), `no_benefit` (score 0, never worth proposing) or `available`.
    """
    i = problem.recipient_index(recipient_id)
    m = problem.n_supporters
    ri = np.full(m, i, dtype=np.int64)
    si = np.arange(m, dtype=np.int64)
    reason = np.full(m, len(HARD_CONSTRAINTS), dtype=np.int64)
    for k, passed in reversed(list(enumerate(checks(problem, ri, si).values()))):
        reason[~passed] = k
    compatible = reason == len(HARD_CONSTRAINTS)
    left = problem.supporters.capacity.astype(np.int64).copy()
    if result is not None:
        for sid, n in result.load().items():
            left[problem.supporter_index(sid)] -= n
    positive = scores(problem, unit_weights(problem), ri, si) > 0
    start = len(HARD_CONSTRAINTS)
    reason[compatible & (problem.supporters.capacity <= 0)] = start
    rest = compatible & (problem.supporters.capacity > 0)
    reason[rest & (left <= 0)] = start + 1
    reason[rest & (left > 0) & ~positive] = start + 2
    reason[rest & (left > 0) & positive] = start + 3
    counts = dict(zip(REASONS, np.bincount(reason, minlength=len(REASONS)).tolist(), strict=True))
    return Unmatched(recipient_id, counts, _summary(counts))


def _summary(counts: dict[str, int]) -> str:
    compatible = counts["no_places"] + counts["full"] + counts["no_benefit"] + counts["available"]
    if compatible == 0:
        return "no supporter meets every requirement"
    if counts["available"]:
        return f"{counts['available']} compatible supporters still have a free place"
    if counts["no_benefit"]:
        return "compatible supporters with free places share nothing that scores"
    return f"all {compatible} compatible supporters are full"
