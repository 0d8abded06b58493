"""The matching engine: pruned max-weight b-matching with an optimality certificate."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import flow
from .blas import single_threaded_blas
from .candidates import Candidates, generate, price
from .constraints import HARD_CONSTRAINTS, checks
from .kernel import Kernel, _Columns
from .model import Problem
from .scoring import SCALE, UnitWeights, scores, unit_weights


@dataclass(frozen=True)
class SolverConfig:
    """Tuning of the pruned solver; the defaults suit programmes of any size."""

    k: int = 12
    """Candidates kept per recipient before the first solve."""
    add_per_row: int = 8
    """Improving pairs added per recipient in each pricing round."""
    max_rounds: int = 10
    certify: bool = True
    """Price every pruned pair against the LP duals, re-solving until none can improve."""
    threads: int = 0
    """Worker threads for scoring; 0 means one per CPU, at most 4."""


@dataclass(frozen=True)
class Pair:
    """A proposed (or pinned) recipient-supporter pair and its score."""

    recipient_id: int
    supporter_id: int
    units: int
    pinned: bool = False

    @property
    def score(self) -> float:
        return self.units / SCALE


@dataclass(frozen=True)
class RejectedPin:
    """A coordinator's pin that could not be honoured, and why."""

    recipient_id: int
    supporter_id: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class MatchResult:
    """The assignment, its total score and how far from optimal it can at most be."""

    pairs: tuple[Pair, ...]
    unmatched: tuple[int, ...]
    total_units: int
    upper_bound_units: int | None
    """A proven upper bound on the best total of any assignment (None if not certified)."""
    rejected_pins: tuple[RejectedPin, ...] = ()
    stats: dict[str, float] = field(default_factory=dict, compare=False)

    @property
    def total(self) -> float:
        return self.total_units / SCALE

    @property
    def optimal(self) -> bool:
        """True when the total provably equals the optimum."""
        return self.upper_bound_units is not None and self.upper_bound_units == self.total_units

    @property
    def gap(self) -> float | None:
        """Relative distance to the upper bound (0.0 when provably optimal)."""
        if self.upper_bound_units is None:
            return None
        if self.upper_bound_units == 0:
            return 0.0
        return (self.upper_bound_units - self.total_units) / self.upper_bound_units

    def supporter_of(self) -> dict[int, int]:
        """Map recipient id to supporter id."""
        return {p.recipient_id: p.supporter_id for p in self.pairs}

    def load(self) -> dict[int, int]:
        """Map supporter id to the number of recipients proposed to them."""
        out: dict[int, int] = {}
        for p in self.pairs:
            out[p.supporter_id] = out.get(p.supporter_id, 0) + 1
        return out


@dataclass(frozen=True)
class Pins:
    """Pinned pairs that can be honoured, and what is left to optimise."""

    ri: np.ndarray
    si: np.ndarray
    units: np.ndarray
    rejected: tuple[RejectedPin, ...]
    capacity: np.ndarray
    free_rows: np.ndarray


def resolve_pins(problem: Problem, uw: UnitWeights) -> Pins:
    """Honour feasible pins in (recipient id, supporter id) order, within capacity."""
    capacity = problem.supporters.capacity.astype(np.int64).copy()
    taken: set[int] = set()
    ri: list[int] = []
    si: list[int] = []
    rejected: list[RejectedPin] = []
    for rid, sid in sorted(set(problem.pinned)):
        try:
            i, j = problem.recipient_index(rid), problem.supporter_index(sid)
        except KeyError as exc:
            rejected.append(RejectedPin(rid, sid, (str(exc.args[0]),)))
            continue
        passed = checks(problem, np.array([i]), np.array([j]))
        reasons = [name for name in HARD_CONSTRAINTS if not passed[name][0]]
        if i in taken:
            reasons.append("recipient is already pinned to another supporter")
        if capacity[j] <= 0:
            reasons.append("supporter has no free place")
        if reasons:
            rejected.append(RejectedPin(rid, sid, tuple(reasons)))
            continue
        taken.add(i)
        capacity[j] -= 1
        ri.append(i)
        si.append(j)
    ri_a, si_a = np.array(ri, dtype=np.int64), np.array(si, dtype=np.int64)
    free = np.ones(problem.n_recipients, dtype=bool)
    free[ri_a] = False
    return Pins(
        ri_a,
        si_a,
        scores(problem, uw, ri_a, si_a),
        tuple(rejected),
        capacity,
        np.flatnonzero(free),
    )


def default_threads() -> int:
    """One scoring thread per CPU, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


def match(problem: Problem, config: SolverConfig | None = None) -> MatchResult:
    """Propose the assignment of maximum total score, honouring pins and every hard rule.

    Candidates are the top-k supporters per recipient; after each min-cost-flow solve, every
    pruned pair is priced against the LP duals and improving pairs are added until none is
    left, which proves the result optimal for the full, unpruned problem.
    """
    with single_threaded_blas():
        return _match(problem, config or SolverConfig())


def _match(problem: Problem, cfg: SolverConfig) -> MatchResult:
    threads = cfg.threads or default_threads()
    t0 = time.perf_counter()
    uw = unit_weights(problem)
    pins = resolve_pins(problem, uw)
    kernel = Kernel(problem, uw)
    cols = kernel.columns(np.flatnonzero(pins.capacity > 0))
    cands = generate(kernel, cols, pins.free_rows, cfg.k, threads=threads)
    stats = {"candidates_s": time.perf_counter() - t0, "solve_s": 0.0, "pricing_s": 0.0}
    edges, bound, rounds = cands.edges, None, 0
    while True:
        rounds += 1
        t1 = time.perf_counter()
        assignment = flow.solve(edges, problem.n_recipients, pins.capacity)
        stats["solve_s"] += time.perf_counter() - t1
        if not cfg.certify:
            break
        t2 = time.perf_counter()
        bound, extra = _certify(kernel, cols, cands, edges, assignment, pins.capacity, cfg, threads)
        stats["pricing_s"] += time.perf_counter() - t2
        if len(extra) == 0 or rounds >= cfg.max_rounds:
            break
        edges = edges.merge(extra)
    stats.update(rounds=rounds, edges=len(edges), seconds=time.perf_counter() - t0)
    return _result(problem, uw, pins, edges, assignment, bound, stats)


def _certify(
    kernel: Kernel,
    cols: _Columns,
    cands: Candidates,
    edges: flow.Edges,
    assignment: np.ndarray,
    capacity: np.ndarray,
    cfg: SolverConfig,
    threads: int,
) -> tuple[int, flow.Edges]:
    """Return a proven upper bound and the pruned pairs that could still improve the total."""
    d = flow.duals(edges, assignment, capacity)
    # A row whose pruned pairs all score <= tau <= u already satisfies u + v >= w there.
    rows = np.flatnonzero(cands.tau > d.u)
    pricing = price(kernel, cols, rows, d.u, d.v, cfg.add_per_row, threads=threads)
    u = d.u.astype(np.int64).copy()
    if len(pricing.rows):
        u[pricing.rows] = np.maximum(u[pricing.rows], np.ceil(pricing.best).astype(np.int64))
    bound = int(u.sum() + (capacity * d.v).sum())
    return bound, pricing.edges


def _result(
    problem: Problem,
    uw: UnitWeights,
    pins: Pins,
    edges: flow.Edges,
    assignment: np.ndarray,
    bound: int | None,
    stats: dict[str, float],
) -> MatchResult:
    """Assemble pairs (pinned and proposed), scores and the bound into a result."""
    rows = np.flatnonzero(assignment >= 0)
    cols = assignment[rows]
    w = np.zeros(len(rows), dtype=np.int64)
    if len(rows):
        key = edges.ri * problem.n_supporters + edges.si
        w = edges.w[np.searchsorted(key, rows * problem.n_supporters + cols)]
    rid, sid = problem.recipients.ids, problem.supporters.ids
    pairs = [Pair(int(rid[i]), int(sid[j]), int(u)) for i, j, u in zip(rows, cols, w, strict=True)]
    pairs += [
        Pair(int(rid[i]), int(sid[j]), int(u), pinned=True)
        for i, j, u in zip(pins.ri, pins.si, pins.units, strict=True)
    ]
    pairs.sort(key=lambda p: p.recipient_id)
    matched = {p.recipient_id for p in pairs}
    pinned_units = int(pins.units.sum())
    total = int(w.sum()) + pinned_units
    return MatchResult(
        pairs=tuple(pairs),
        unmatched=tuple(int(x) for x in rid if int(x) not in matched),
        total_units=total,
        upper_bound_units=None if bound is None else bound + pinned_units,
        rejected_pins=pins.rejected,
        stats=stats,
    )
