"""Exact reference solvers for small problems: the unpruned flow and brute force."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from . import flow
from .constraints import all_pairs, feasible
from .model import Problem
from .scoring import scores, unit_weights
from .solve import MatchResult, _result, resolve_pins


def full_edges(problem: Problem, rows: np.ndarray | None = None) -> flow.Edges:
    """Return every feasible positive-score pair, scored pair by pair (no kernel, no pruning)."""
    uw = unit_weights(problem)
    ri, si = all_pairs(problem)
    if rows is not None:
        keep = np.isin(ri, rows)
        ri, si = ri[keep], si[keep]
    ok = feasible(problem, ri, si)
    ri, si = ri[ok], si[ok]
    return flow.Edges.build(ri, si, scores(problem, uw, ri, si))


def exact(problem: Problem) -> MatchResult:
    """Solve the full, unpruned min-cost flow over all n*m pairs (small problems only)."""
    uw = unit_weights(problem)
    pins = resolve_pins(problem, uw)
    edges = full_edges(problem, pins.free_rows)
    assignment = flow.solve(edges, problem.n_recipients, pins.capacity)
    result = _result(problem, uw, pins, edges, assignment, None, {})
    # The unpruned flow is optimal by construction, so its total is its own bound.
    return replace(result, upper_bound_units=result.total_units)


def brute_force_total(problem: Problem) -> int:
    """Return the optimal total units by trying every assignment (tiny problems only)."""
    uw = unit_weights(problem)
    pins = resolve_pins(problem, uw)
    edges = full_edges(problem, pins.free_rows)
    options: dict[int, list[tuple[int, int]]] = {}
    for r, s, w in zip(edges.ri.tolist(), edges.si.tolist(), edges.w.tolist(), strict=True):
        options.setdefault(r, []).append((s, w))
    rows = sorted(options)
    capacity = pins.capacity.tolist()

    def best(k: int) -> int:
        if k == len(rows):
            return 0
        top = best(k + 1)
        for s, w in options[rows[k]]:
            if capacity[s] > 0:
                capacity[s] -= 1
                top = max(top, w + best(k + 1))
                capacity[s] += 1
        return top

    return best(0) + int(pins.units.sum())
