"""Greedy baseline: take pairs by descending score while both sides are free."""

from __future__ import annotations

import heapq
import time

import numpy as np

from . import flow
from .blas import single_threaded_blas
from .candidates import generate
from .kernel import Kernel
from .model import Problem
from .scoring import UnitWeights, scores, unit_weights
from .solve import MatchResult, _result, default_workers, resolve_pins


def greedy_edges(edges: flow.Edges, n_recipients: int, capacity: np.ndarray) -> np.ndarray:
    """Scan edges by (score desc, recipient, supporter) and take each if both sides are free."""
    match = np.full(n_recipients, -1, dtype=np.int64)
    left = capacity.astype(np.int64).copy()
    order = np.lexsort((edges.si, edges.ri, -edges.w))
    for r, s in zip(edges.ri[order].tolist(), edges.si[order].tolist(), strict=True):
        if match[r] < 0 and left[s] > 0:
            match[r] = s
            left[s] -= 1
    return match


def greedy(problem: Problem, *, k: int = 16, workers: int = 0) -> MatchResult:
    """Global greedy over all feasible pairs, identical to scanning every pair in score order.

    Recipients keep a short sorted list of their best pairs; when the list runs out before its
    bound, their rows are rescanned against supporters that still have places, so no pair
    is ever skipped out of order.
    """
    kernel = Kernel(problem, unit_weights(problem))
    try:
        with single_threaded_blas():
            return _greedy(problem, kernel, k, workers or default_workers())
    finally:
        kernel.close()


def _greedy(problem: Problem, kernel: Kernel, k: int, workers: int) -> MatchResult:
    t0 = time.perf_counter()
    uw = kernel.uw
    pins = resolve_pins(problem, uw)
    left = pins.capacity.copy()
    n = problem.n_recipients
    match = np.full(n, -1, dtype=np.int64)
    lists: dict[int, list[tuple[int, int]]] = {}
    bound = np.zeros(n, dtype=np.int64)
    heap: list[tuple[int, int, int, int]] = []
    version = np.zeros(n, dtype=np.int64)
    awaiting: set[int] = set()

    def refill(rows: np.ndarray) -> None:
        cols = kernel.columns(np.flatnonzero(left > 0))
        cands = generate(kernel, cols, rows, k, workers=workers, ties=True)
        e = cands.edges
        starts = np.searchsorted(e.ri, rows)
        ends = np.searchsorted(e.ri, rows, side="right")
        for r, a, b in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True):
            # Ties are kept whole, so every listed pair beats every unlisted one.
            tau = int(cands.tau[r])
            pairs = zip(e.w[a:b].tolist(), e.si[a:b].tolist(), strict=True)
            lists[r] = sorted(((w, s) for w, s in pairs if w > tau), key=lambda x: (-x[0], x[1]))
            lists[r].reverse()
            bound[r] = tau
            version[r] += 1
            awaiting.discard(r)
            push(r)

    def push(r: int) -> None:
        pending = lists[r]
        while pending and left[pending[-1][1]] <= 0:
            pending.pop()
        if pending:
            w, s = pending[-1]
            heapq.heappush(heap, (-w, r, s, int(version[r])))
        elif bound[r] > 0:
            # Unlisted pairs score at most bound[r]: rescan before any lower pair is taken.
            heapq.heappush(heap, (-int(bound[r]), r, -1, int(version[r])))
            awaiting.add(r)

    refill(pins.free_rows)
    while heap:
        _, r, s, ver = heapq.heappop(heap)
        if ver != version[r] or match[r] >= 0:
            continue
        if s < 0:
            # Rescanning early is harmless, so refresh every row that is waiting on a rescan.
            refill(np.array(sorted(awaiting | {r}), dtype=np.int64))
            continue
        lists[r].pop()
        if left[s] > 0:
            match[r] = s
            left[s] -= 1
        else:
            push(r)
    edges = flow.Edges.build(
        np.flatnonzero(match >= 0), match[match >= 0], np.ones(int((match >= 0).sum()))
    )
    result = _result(problem, uw, pins, _scored(problem, uw, edges), match, None, {})
    result.stats["seconds"] = time.perf_counter() - t0
    return result


def _scored(problem: Problem, uw: UnitWeights, edges: flow.Edges) -> flow.Edges:
    return flow.Edges(edges.ri, edges.si, scores(problem, uw, edges.ri, edges.si).astype(np.int32))
