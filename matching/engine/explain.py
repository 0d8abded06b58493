"""Why recipients got nobody: every supporter attributed to the first rule that excludes them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .constraints import HARD_CONSTRAINTS, checks
from .model import Problem
from .scoring import scores, unit_weights
from .solve import MatchResult

REASONS: tuple[str, ...] = (*HARD_CONSTRAINTS, "no_places", "full", "no_benefit", "available")
"""Reasons in attribution order; the last ones apply to supporters meeting every rule:
no free place at all, places all taken by others in this run, compatible but scoring
nothing, and compatible with a free place."""

GRID_PAIRS = 1 << 20
"""Pairs checked at once: rows per grid = GRID_PAIRS // supporters, to bound memory."""


@dataclass(frozen=True)
class Unmatched:
    """For one recipient, how many supporters each reason excludes (all of REASONS, in order)."""

    recipient_id: int
    counts: dict[str, int]

    @property
    def compatible(self) -> int:
        """Supporters meeting every hard rule."""
        return sum(self.counts[k] for k in REASONS[len(HARD_CONSTRAINTS) :])


def explain_unmatched(
    problem: Problem, recipient_ids: Iterable[int], result: MatchResult | None = None
) -> tuple[Unmatched, ...]:
    """Attribute every supporter to the first hard rule excluding each recipient.

    Supporters meeting every rule count as `no_places` (capacity 0), `full` (their places
    went to others in `result`), `no_benefit` (score 0, never worth proposing) or `available`.
    Recipients are checked many at a time against all supporters, in grids of about
    GRID_PAIRS pairs, so the cost is a few array operations per grid, not per recipient.
    """
    rows = np.array([problem.recipient_index(r) for r in recipient_ids], dtype=np.int64)
    m = problem.n_supporters
    capacity = problem.supporters.capacity.astype(np.int64)
    left = capacity.copy()
    if result is not None and result.pairs:
        taken = np.array([p.supporter_id for p in result.pairs], dtype=np.int64)
        np.subtract.at(left, np.searchsorted(problem.supporters.ids, taken), 1)
    # Reason of a compatible supporter, before scoring: no places, full, or free.
    start = len(HARD_CONSTRAINTS)
    after_rules = np.where(capacity <= 0, start, np.where(left <= 0, start + 1, start + 3))
    counts = np.zeros((len(rows), len(REASONS)), dtype=np.int64)
    step = max(1, GRID_PAIRS // max(m, 1))
    cols = np.arange(m, dtype=np.int64)
    for a in range(0, len(rows) if m else 0, step):
        counts[a : a + step] = _grid_counts(problem, rows[a : a + step], cols, after_rules)
    ids = problem.recipients.ids[rows]
    return tuple(
        Unmatched(int(rid), dict(zip(REASONS, row.tolist(), strict=True)))
        for rid, row in zip(ids, counts, strict=True)
    )


def _grid_counts(
    problem: Problem, rows: np.ndarray, cols: np.ndarray, after_rules: np.ndarray
) -> np.ndarray:
    """Count, per row, the supporters attributed to each reason."""
    reason = np.broadcast_to(after_rules, (len(rows), len(cols))).copy()
    passed = checks(problem, rows[:, None], cols[None, :])
    for k, name in reversed(list(enumerate(HARD_CONSTRAINTS))):
        reason[~passed[name]] = k
    # Only compatible pairs with a free place need a score, to tell no_benefit from available.
    free_r, free_s = np.nonzero(reason == REASONS.index("available"))
    if len(free_r):
        zero = scores(problem, unit_weights(problem), rows[free_r], cols[free_s]) <= 0
        reason[free_r[zero], free_s[zero]] = REASONS.index("no_benefit")
    flat = np.arange(len(rows))[:, None] * len(REASONS) + reason
    return np.bincount(flat.ravel(), minlength=len(rows) * len(REASONS)).reshape(
        len(rows), len(REASONS)
    )
