"""Hard constraints, evaluated on explicit lists of (recipient, supporter) index pairs."""

from __future__ import annotations

import math

import numpy as np

from .model import EARTH_RADIUS_KM, IN_PERSON, Problem

HARD_CONSTRAINTS: tuple[str, ...] = (
    "language",
    "format",
    "availability",
    "distance",
    "exclusion",
    "forbidden",
)
"""Hard constraints in the order used to attribute a supporter to the first one failing."""


def cos_of_km(km: float) -> float:
    """Return the dot product of unit vectors that lie `km` apart on the Earth's surface."""
    return math.cos(min(km / EARTH_RADIUS_KM, math.pi))


def dots(problem: Problem, ri: np.ndarray, si: np.ndarray) -> np.ndarray:
    """Return the dot products of the pairs' unit location vectors (NaN if unknown)."""
    return np.einsum("...j,...j->...", problem.recipients.xyz[ri], problem.supporters.xyz[si])


def forbidden_mask(problem: Problem, ri: np.ndarray, si: np.ndarray) -> np.ndarray:
    """Return True for pairs on the forbidden list."""
    f = problem.forbidden
    if len(f) == 0:
        return np.zeros(np.broadcast_shapes(np.shape(ri), np.shape(si)), dtype=bool)
    m = np.int64(problem.n_supporters)
    keys = f[:, 0] * m + f[:, 1]
    query = np.asarray(ri, dtype=np.int64) * m + np.asarray(si, dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return keys[pos] == query


def checks(problem: Problem, ri: np.ndarray, si: np.ndarray) -> dict[str, np.ndarray]:
    """Return, per hard constraint, a boolean array saying whether each pair passes it.

    Index arrays broadcast: rows[:, None] against columns gives a grid of pairs.
    """
    r, s = problem.recipients, problem.supporters
    common = r.formats[ri] & s.formats[si]
    in_person_only = common == IN_PERSON
    near = dots(problem, ri, si) >= cos_of_km(problem.rules.max_distance_km)
    return {
        "language": (r.languages[ri] & s.languages[si]) != 0,
        "format": common != 0,
        "availability": (r.availability[ri] & s.availability[si]) != 0,
        "distance": ~in_person_only | near,
        "exclusion": (r.tags[ri] & s.excludes[si]) == 0,
        "forbidden": ~forbidden_mask(problem, ri, si),
    }


def feasible(problem: Problem, ri: np.ndarray, si: np.ndarray) -> np.ndarray:
    """Return True for pairs meeting every hard constraint (capacity aside)."""
    ok = np.ones(len(ri), dtype=bool)
    for passed in checks(problem, ri, si).values():
        ok &= passed
    return ok


def all_pairs(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Return every (recipient, supporter) index pair; for small problems only."""
    n, m = problem.n_recipients, problem.n_supporters
    ri = np.repeat(np.arange(n, dtype=np.int64), m)
    si = np.tile(np.arange(m, dtype=np.int64), n)
    return ri, si
