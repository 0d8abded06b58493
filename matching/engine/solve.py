"""The matching engine: pruned max-weight b-matching with an optimality certificate."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import flow
from .blas import release_free_memory, single_threaded_blas
from .candidates import Candidates, generate, price
from .constraints import HARD_CONSTRAINTS, checks
from .kernel import Kernel
from .model import Problem
from .scoring import SCALE, UnitWeights, scores, unit_weights, units


@dataclass(frozen=True)
class SolverConfig:
    """Tuning of the pruned solver; the defaults suit programmes of any size.

    None of these change the answer's guarantees: with `certify` the result is optimal, or
    within `tolerance` of optimal, whatever the pruning.
    """

    k: int = 48
    """Candidates kept per recipient by the first scan (the pool)."""
    per_supporter: int = 20
    """Candidates kept per supporter (its best recipients) by the first scan."""
    flow_k: int = 16
    """The first flow sees this many of each recipient's candidates (and every supporter's);
    the rest of the pool waits in reserve and joins when the duals say it pays."""
    add_per_row: int = 16
    """Improving pairs added per recipient in each pricing round."""
    slack: float = 3.0
    """Pricing also keeps pairs within this many points of improving, to save re-solves."""
    keep: float = 4.5
    """Between solves, the flow keeps only pairs within this many points of being worth it."""
    max_inner: int = 1
    """Re-solves on the pool alone (no pricing scan) in the first round, when pooled pairs pay.
    The first flow's duals are rough, so its pool pairs often pay; later rounds price at
    once, and pooled pairs that pay join the next round's flow (`keep` makes them rare)."""
    max_rounds: int = 20
    """Pricing rounds at most; the bound stays valid if they run out."""
    certify: bool = True
    """Price every pruned pair against the LP duals, re-solving until none can improve."""
    tolerance: float = 0.0
    """Stop once the total is proven within this fraction of the optimum (0 = exact)."""
    workers: int = 0
    """Parallel workers for scoring: forked processes for big scans, threads for small ones
    (see candidates.FORK_PAIRS); 0 means one per CPU, at most 4. The answer is the same."""


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
    """A coordinator's pin that could not be honoured, and why.

    Reasons are codes: a hard constraint's name, "already_pinned" (the recipient has another
    pin), "no_free_place", "unknown_recipient" or "unknown_supporter".
    """

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
    stats: dict = field(default_factory=dict, compare=False)
    """Timings and counts of the run, for monitoring; not part of the answer."""

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
        unknown = tuple(
            code
            for code, ids, key in (
                ("unknown_recipient", problem.recipients.ids, rid),
                ("unknown_supporter", problem.supporters.ids, sid),
            )
            if key not in ids
        )
        if unknown:
            rejected.append(RejectedPin(rid, sid, unknown))
            continue
        i, j = problem.recipient_index(rid), problem.supporter_index(sid)
        passed = checks(problem, np.array([i]), np.array([j]))
        reasons = [name for name in HARD_CONSTRAINTS if not passed[name][0]]
        if i in taken:
            reasons.append("already_pinned")
        if capacity[j] <= 0:
            reasons.append("no_free_place")
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


def default_workers() -> int:
    """One scoring worker per CPU, at most four."""
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
    kernel = Kernel(problem, unit_weights(problem))
    try:
        return _run(problem, cfg, kernel)
    finally:
        kernel.close()
        # Only once the run is over: memory handed back mid-run must be faulted in again by
        # the next step (a trim after the scan made the solves 15-20 % slower).
        release_free_memory()


def _run(problem: Problem, cfg: SolverConfig, kernel: Kernel) -> MatchResult:
    workers = cfg.workers or default_workers()
    t0 = time.perf_counter()
    uw = kernel.uw
    pins = resolve_pins(problem, uw)
    active = np.flatnonzero(pins.capacity > 0)
    cols = kernel.columns(active)
    cands = generate(
        kernel,
        cols,
        pins.free_rows,
        cfg.k,
        workers=workers,
        per_supporter=cfg.per_supporter,
        first=cfg.flow_k,
    )
    stats: dict = {"candidates_s": time.perf_counter() - t0, "solve_s": 0.0, "pricing_s": 0.0}
    log: list[str] = [
        f"scan {time.perf_counter() - t0:.2f}s pool {len(cands.edges)} "
        f"(full rows {cands.scanned_in_full})"
    ]
    n, cap = problem.n_recipients, pins.capacity
    # The pool holds every pair found so far; the flow only sees the `work` part of it, and
    # pairs in reserve join when the duals say they pay.
    pool, work = cands.edges, cands.first
    near = units(cfg.keep)
    bound, rounds, solves, d, assignment = None, 0, 0, None, None
    while True:
        rounds += 1
        inner = 0
        while True:
            t1 = time.perf_counter()
            edges = pool.subset(work)
            assignment, d, how = _solve(edges, n, cap, assignment, d, cfg.certify)
            solves += 1
            stats["solve_s"] += time.perf_counter() - t1
            log.append(f"{how} {len(edges)} edges {time.perf_counter() - t1:.2f}s")
            if not cfg.certify:
                break
            reduced = pool.w - d.u[pool.ri] - d.v[pool.si]
            late = reduced > 0
            if rounds > 1 or inner >= cfg.max_inner or not late.any():
                break
            # Re-solve on the pairs that are (nearly) worth it; shrinking is stopped after a
            # few tries so that the loop always ends.
            work = (reduced >= -near) | (work if inner >= 3 else False)
            inner += 1
        if not cfg.certify:
            break
        t2 = time.perf_counter()
        bound, extra, improving = _certify(kernel, active, cands, pool, d, cap, cfg, workers)
        stats["pricing_s"] += time.perf_counter() - t2
        total = _total(edges, assignment)
        improving += int(late.sum())
        log.append(
            f"pricing {time.perf_counter() - t2:.2f}s total {total} bound {bound} "
            f"improving {improving}"
        )
        if improving == 0 or bound - total <= cfg.tolerance * bound or rounds >= cfg.max_rounds:
            break
        worth = extra.w > d.u[extra.ri] + d.v[extra.si] - near
        pool, work = _grow(pool, reduced >= -near, extra, worth)
    stats.update(rounds=rounds, solves=solves, edges=len(edges), seconds=time.perf_counter() - t0)
    stats["log"] = log
    return _result(problem, uw, pins, edges, assignment, bound, stats)


def _solve(
    edges: flow.Edges,
    n: int,
    capacity: np.ndarray,
    previous: np.ndarray | None,
    d: flow.Duals | None,
    certify: bool,
) -> tuple[np.ndarray, flow.Duals | None, str]:
    """One solve on these edges, and its duals (which prove it optimal on them).

    The first is OR-Tools' flow; later ones start from the previous optimum and its duals
    (augment.py, ~10x faster). If that answer cannot be proven optimal, OR-Tools solves it.
    """
    if previous is not None and d is not None:
        from . import augment

        assignment = augment.solve_from(edges, n, capacity, previous, d.v)
        try:
            return assignment, flow.duals(edges, assignment, capacity), "re-solve"
        except flow.NotOptimal:
            pass
    assignment = flow.solve(edges, n, capacity, hint=d)
    duals = flow.duals(edges, assignment, capacity) if certify else None
    return assignment, duals, "flow"


def _grow(
    pool: flow.Edges, work: np.ndarray, extra: flow.Edges, extra_work: np.ndarray
) -> tuple[flow.Edges, np.ndarray]:
    """Add pairs to the pool, those flagged in extra_work (and pool pairs in work) to the flow."""
    merged = pool.merge(extra)
    chosen = np.zeros(len(merged), dtype=bool)
    chosen[merged.find(pool.subset(work))] = True
    chosen[merged.find(extra.subset(extra_work))] = True
    return merged, chosen


def _total(edges: flow.Edges, assignment: np.ndarray) -> int:
    rows = np.flatnonzero(assignment >= 0)
    return int(edges.weight_of(rows, assignment[rows]).sum())


def _certify(
    kernel: Kernel,
    active: np.ndarray,
    cands: Candidates,
    pool: flow.Edges,
    d: flow.Duals,
    capacity: np.ndarray,
    cfg: SolverConfig,
    workers: int,
) -> tuple[int, flow.Edges, int]:
    """Return a proven upper bound, pairs worth adding and how many of them improve the total.

    Any u, v >= 0 with u[r] + v[s] >= w[r, s] on every feasible pair bound every assignment
    by sum(u) + sum(capacity * v). The duals satisfy this on the flow's pairs, and u[r] is
    raised to cover the rest of the pool; a row whose unpooled pairs all score
    <= tau[r] <= u[r] satisfies it everywhere; every other row is
    rescored, but only against supporters with v[s] < tau[r] - u[r] (+ slack), since no other
    supporter can break it, and u[r] is raised to its best w[r, s] - v[s].
    """
    rows = np.flatnonzero(cands.tau > d.u)
    pricing = price(
        kernel,
        active,
        rows,
        d.u,
        d.v,
        cands.tau,
        cfg.add_per_row,
        workers=workers,
        slack=units(cfg.slack),
    )
    u = d.u.astype(np.int64).copy()
    if len(pricing.rows):
        u[pricing.rows] = np.maximum(u[pricing.rows], np.ceil(pricing.best).astype(np.int64))
    # Pooled pairs outside the flow may pay under these duals too.
    np.maximum.at(u, pool.ri, pool.w - d.v[pool.si])
    bound = int(u.sum() + (capacity * d.v).sum())
    e = pricing.edges
    improving = int(np.count_nonzero(e.w > d.u[e.ri] + d.v[e.si]))
    return bound, e, improving


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
    w = edges.weight_of(rows, cols) if len(rows) else np.zeros(0, dtype=np.int64)
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
