"""Candidate generation (top-k per recipient, top-l per supporter) and pricing against duals.

The kernel hands over blocks of scores with one line per supporter and one column per
recipient of the block.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .flow import Edges, pack
from .kernel import CHUNK, Kernel, Visit, _Columns
from .parallel import can_fork, fork_map
from .scoring import unshared_bound

Found = tuple[np.ndarray, np.ndarray, np.ndarray]
"""What a block visitor returns: packed pairs, the block's rows and one number per row."""


@dataclass(frozen=True)
class Candidates:
    """Pruned candidate graph plus, per recipient, a bound on every pair left out."""

    edges: Edges
    tau: np.ndarray
    """tau[r] >= score of every feasible pair of recipient r that is not in `edges`."""
    first: np.ndarray
    """Per edge: among its recipient's best `first` or its supporter's best (see generate)."""
    scanned_in_full: int = 0
    """Recipients scored against every supporter (the others only against shared conditions)."""


def _rank_in_run(keys: np.ndarray) -> np.ndarray:
    """Rank of each entry within its run of equal keys (keys sorted)."""
    if len(keys) == 0:
        return keys
    start = np.ones(len(keys), dtype=bool)
    start[1:] = keys[1:] != keys[:-1]
    first = np.flatnonzero(start)
    return np.arange(len(keys)) - np.repeat(first, np.diff(np.append(first, len(keys))))


def _top(
    rows: np.ndarray,
    ids: np.ndarray,
    key: np.ndarray,
    rr: np.ndarray,
    cc: np.ndarray,
    keep: int,
    ties: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keep the `keep` entries of largest key per block row (ties to the lower supporter).

    Keys are integers in (-2**24, 2**24); rr are block-row positions, cc supporter lines.
    With `ties`, entries tied with the last kept one are kept too. Returns recipients,
    supporters, keys and ranks of the kept entries, and per block row the largest key
    dropped (-inf if none was).
    """
    # (row, -key, supporter) packed in 64 bits: sorting ranks every row at once.
    packed = rr.astype(np.uint64) << np.uint64(45)
    packed |= (np.int64(1 << 24) - key.astype(np.int64)).astype(np.uint64) << np.uint64(20)
    packed |= ids[cc].astype(np.uint64)
    packed.sort()
    rr = (packed >> np.uint64(45)).astype(np.int64)
    key = (1 << 24) - ((packed >> np.uint64(20)) & np.uint64((1 << 25) - 1)).astype(np.int64)
    sup = (packed & np.uint64((1 << 20) - 1)).astype(np.int64)
    rank = _rank_in_run(rr)
    kept = rank < keep
    if ties:
        last = np.full(len(rows), np.inf)
        at = rank == keep - 1
        last[rr[at]] = key[at]
        kept |= key >= last[rr]
    # Entries run from best to worst per row, so a row's first dropped entry is its best.
    dropped = np.flatnonzero(~kept)
    lead = np.ones(len(dropped), dtype=bool)
    lead[1:] = rr[dropped[1:]] != rr[dropped[:-1]]
    cut = np.full(len(rows), -np.inf)
    cut[rr[dropped[lead]]] = key[dropped[lead]]
    return rows[rr[kept]], sup[kept], key[kept], rank[kept], cut


_SUP, _VAL = np.uint64(44), np.uint64(20)
_VAL_MASK, _ROW_MASK = (1 << 24) - 1, (1 << 20) - 1


class _SupporterTop:
    """Running top-l recipients of every supporter, kept per thread and merged at the end.

    Entries are 64-bit keys (supporter, -score, recipient), so sorting ranks them. A thread
    keeps entries at or above each supporter's l-th best score seen so far, so the final merge
    is exact whichever thread saw which rows.
    """

    def __init__(self, n_supporters: int, size: int) -> None:
        self.n, self.size = n_supporters, size
        self.local = threading.local()
        self.states: list[dict] = []
        self.lock = threading.Lock()

    def _state(self) -> dict:
        state = getattr(self.local, "state", None)
        if state is None:
            state = {"floor": None, "kept": np.empty(0, np.uint64), "new": [], "count": 0}
            self.local.state = state
            with self.lock:
                self.states.append(state)
        return state

    def offer(self, rows: np.ndarray, ids: np.ndarray, scores: np.ndarray) -> None:
        """Record the block's entries that may belong to a supporter's top l."""
        state = self._state()
        block = scores[: len(ids)]
        if state["floor"] is None:
            state["floor"] = np.ones(self.n, dtype=scores.dtype)
        floor = state["floor"][ids]
        width = block.shape[1]
        hit = np.flatnonzero(block >= floor[:, None])
        if width > self.size and len(hit) > 2 * self.size * len(ids):
            # Early on, raise the floors to each line's l-th best within this block first.
            kth = np.partition(block, width - self.size, axis=1)[:, width - self.size]
            state["floor"][ids] = floor = np.maximum(floor, kth)
            hit = np.flatnonzero(block >= floor[:, None])
        line, col = np.divmod(hit, width)
        inv = np.uint64(_VAL_MASK) - block.ravel()[hit].astype(np.uint64)
        key = (ids[line].astype(np.uint64) << _SUP) | (inv << _VAL)
        key |= rows[col].astype(np.uint64)
        state["new"].append(key)
        state["count"] += len(key)
        # Compacting when the entries have tripled raises the floors at a bounded cost.
        if state["count"] > max(1 << 17, 2 * len(state["kept"])):
            self._compact(state)

    def _compact(self, state: dict) -> None:
        fresh = np.sort(np.concatenate(state["new"]))
        keys = _top_keys(np.concatenate([state["kept"], fresh]), self.size, runs=True)
        sup = (keys >> _SUP).astype(np.int64)
        full = np.flatnonzero(np.bincount(sup, minlength=self.n) >= self.size)
        last = keys[np.searchsorted(sup, full, side="right") - 1]
        best = _VAL_MASK - ((last >> _VAL) & np.uint64(_VAL_MASK)).astype(np.int64)
        state["floor"][full] = np.maximum(state["floor"][full], best)
        state["kept"], state["new"], state["count"] = keys, [], 0

    def keys(self) -> np.ndarray:
        """Return the sorted keys of every supporter's top l (see _supporter_edges)."""
        parts = [k for state in self.states for k in (state["kept"], *state["new"])]
        return _top_keys(np.concatenate(parts) if parts else np.empty(0, np.uint64), self.size)


def _supporter_edges(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (recipients, supporters, scores) of _SupporterTop keys."""
    row = (keys & np.uint64(_ROW_MASK)).astype(np.int64)
    val = _VAL_MASK - ((keys >> _VAL) & np.uint64(_VAL_MASK)).astype(np.int64)
    return row, (keys >> _SUP).astype(np.int64), val


def _top_keys(keys: np.ndarray, size: int, runs: bool = False) -> np.ndarray:
    """Sort keys and keep the first `size` of every supporter (a few sorted runs: `runs`)."""
    keys = np.sort(keys, kind="stable" if runs else None)
    if len(keys) > 1:
        # The same pair can be offered twice (once per shared condition): count it once.
        fresh = np.empty(len(keys), dtype=bool)
        fresh[0] = True
        np.not_equal(keys[1:], keys[:-1], out=fresh[1:])
        keys = keys[fresh]
    return keys[_rank_in_run(keys >> _SUP) < size]


def select_top(
    k: int,
    ties: bool = False,
    supporters: _SupporterTop | None = None,
    first: int | None = None,
    ranked: bool = False,
) -> Visit:
    """Return a block visitor keeping the top k positive pairs of every recipient; those
    ranked below `first` are packed as reserve. With `ranked`, pairs come as rank keys."""

    def visit(rows: np.ndarray, ids: np.ndarray, scores: np.ndarray) -> Found:
        width, b = scores.shape
        chunk = CHUNK
        while chunk > 1 and width // chunk <= k:
            chunk //= 2
        groups = width // chunk
        # Each recipient's scores split into `groups` strided groups; the k-th largest group
        # maximum is a threshold that at least k entries reach, found without a full sort.
        gmax = scores.reshape(chunk, groups, b).max(axis=0)
        if groups > k:
            thr = np.partition(gmax, groups - k, axis=0)[groups - k]
        else:
            thr = np.ones(b, dtype=scores.dtype)
        thr = np.maximum(thr, 1)
        hit = np.flatnonzero(scores >= thr[None, :])
        cc, rr = np.divmod(hit, b)
        ri, si, w, rank, cut = _top(rows, ids, scores.ravel()[hit], rr, cc, k, ties)
        tau = np.maximum(np.where(np.isfinite(cut), cut, thr - 1), 0)
        if supporters is not None:
            supporters.offer(rows, ids, scores)
        if ranked:
            return rank_keys(ri, si, w), rows, tau.astype(np.int64)
        reserve = None if first is None else rank >= first
        return pack(ri, si, w, reserve), rows, tau.astype(np.int64)

    return visit


_W23 = (1 << 23) - 1


def rank_keys(ri: np.ndarray, si: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pack pairs as uint64 keys (recipient, -score, supporter) so that sorting ranks them."""
    keys = np.asarray(ri).astype(np.uint64) << np.uint64(44)
    keys |= (_W23 - np.asarray(w).astype(np.int64)).astype(np.uint64) << np.uint64(20)
    keys |= np.asarray(si).astype(np.uint64)
    return keys


FORK_PAIRS = 1 << 25
"""Scans of at least this many pairs are split across forked processes (see parallel)."""


def _parts(rows: np.ndarray, workers: int, pairs: int) -> list[np.ndarray] | None:
    """Interleaved shares of rows, one per worker process, or None to scan in this process."""
    if workers <= 1 or pairs < FORK_PAIRS or len(rows) < workers or not can_fork():
        return None
    return [rows[i::workers] for i in range(workers)]


@dataclass(frozen=True)
class _Found:
    """What one worker's scan of some rows found (see generate)."""

    keys: np.ndarray
    rows: np.ndarray
    tau: np.ndarray
    supporter_keys: np.ndarray
    scanned_in_full: int


def generate(
    kernel: Kernel,
    cols: _Columns,
    rows: np.ndarray,
    k: int,
    *,
    workers: int,
    ties: bool = False,
    per_supporter: int = 0,
    first: int | None = None,
) -> Candidates:
    """Score rows against the given supporters; keep each row's top k (and ties) and each
    supporter's top `per_supporter` recipients. `Candidates.first` flags each row's top
    `first` and every supporter's candidates (all of them if `first` is None).

    Without ties, rows are first scored only against supporters sharing a condition with
    them; a row is scanned in full only if a pair sharing no condition could still reach its
    top k (see scoring.unshared_bound), and otherwise that bound joins its tau.

    Every row's result depends on that row alone and supporters' tops merge exactly, so
    big scans split rows across `workers` processes with the same answer.
    """
    rows = np.asarray(rows, dtype=np.int64)

    def scan(part: np.ndarray, threads: int) -> _Found:
        return _generate_rows(kernel, cols, part, k, threads, ties, per_supporter, first)

    parts = _parts(rows, workers, len(rows) * len(cols.ids))
    found = [scan(rows, workers)] if parts is None else fork_map(lambda p: scan(p, 1), parts)
    tau = np.zeros(kernel.problem.n_recipients, dtype=np.int64)
    keys = []
    for f in found:
        keys.append(f.keys)
        tau[f.rows] = f.tau
    if per_supporter:
        best = _top_keys(np.concatenate([f.supporter_keys for f in found]), per_supporter)
        keys.append(pack(*_supporter_edges(best)))
    full = sum(f.scanned_in_full for f in found)
    everything = np.concatenate(keys) if keys else np.empty(0, np.uint64)
    del keys, found
    edges, flags = Edges.flagged(everything)
    return Candidates(edges, tau, flags, full)


def _generate_rows(
    kernel: Kernel,
    cols: _Columns,
    rows: np.ndarray,
    k: int,
    threads: int,
    ties: bool,
    per_supporter: int,
    first: int | None,
) -> _Found:
    """Scan some rows in this process (see generate)."""
    m = kernel.problem.n_supporters
    best = _SupporterTop(m, per_supporter) if per_supporter else None
    visit = select_top(k, ties, best, first)
    tau = np.zeros(kernel.problem.n_recipients, dtype=np.int64)
    keys: list[np.ndarray] = []
    full = rows
    if not ties and len(rows):
        shared_keys, full = _shared_first(kernel, cols, rows, k, best, tau, threads, first)
        keys.append(shared_keys)
    for pkeys, prow, ptau in kernel.scan(full, cols, visit, threads=threads):
        keys.append(pkeys)
        tau[prow] = ptau
    return _Found(
        np.concatenate(keys) if keys else np.empty(0, np.uint64),
        rows,
        tau[rows],
        best.keys() if best is not None else np.empty(0, np.uint64),
        len(full),
    )


def _shared_first(
    kernel: Kernel,
    cols: _Columns,
    rows: np.ndarray,
    k: int,
    best: _SupporterTop | None,
    tau: np.ndarray,
    threads: int,
    first: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Score rows against supporters sharing a condition, one condition at a time.

    Returns the packed top-k of the rows this settles (their tau filled in) and the rows
    that still need a full scan.
    """
    problem = kernel.problem
    n = problem.n_recipients
    visit = select_top(k, supporters=best, ranked=True)
    r_cond, s_cond = problem.recipients.conditions, problem.supporters.conditions
    active = cols.ids
    cut = np.zeros(n, dtype=np.int64)
    merged = _Ranked(k, cut)
    bits = int(np.bitwise_or.reduce(r_cond[rows])) if len(rows) else 0
    for c in range(bits.bit_length()):
        bit = np.uint64(1 << c)
        group_rows = rows[(r_cond[rows] & bit) != 0]
        group_cols = active[(s_cond[active] & bit) != 0]
        if len(group_rows) == 0 or len(group_cols) == 0:
            continue
        sub = kernel.columns(group_cols, shared=True)
        for pkeys, prow, ptau in kernel.scan(group_rows, sub, visit, threads=threads):
            merged.add(pkeys)
            cut[prow] = np.maximum(cut[prow], ptau)
    keys = merged.result()
    ri = (keys >> np.uint64(44)).astype(np.int32)
    w = (_W23 - ((keys >> np.uint64(20)) & np.uint64(_W23)).astype(np.int64)).astype(np.int32)
    si = (keys & np.uint64((1 << 20) - 1)).astype(np.int32)
    del keys
    rank = _rank_in_run(ri)
    kth = np.zeros(n, dtype=np.int64)
    kth[ri[rank == k - 1]] = w[rank == k - 1]
    bound = unshared_bound(problem, kernel.uw)
    # Settled: k shared pairs all beating anything unshared, so the top k are all shared.
    settled = np.zeros(n, dtype=bool)
    settled[rows] = kth[rows] > bound[rows]
    tau[settled] = np.maximum(cut[settled], bound[settled])
    keep = (rank < k) & settled[ri]
    reserve = None if first is None else rank[keep] >= first
    return pack(ri[keep], si[keep], w[keep], reserve), rows[~settled[rows]]


class _Ranked:
    """Rank keys (see rank_keys) merged from many blocks, trimmed to k per recipient.

    Blocks are merged in batches, so memory stays near a few times k keys per recipient;
    the best key trimmed from each recipient is folded into `cut`.
    """

    def __init__(self, k: int, cut: np.ndarray) -> None:
        self.k, self.cut = k, cut
        self.kept = np.empty(0, np.uint64)
        self.new: list[np.ndarray] = []
        self.count = 0

    def add(self, keys: np.ndarray) -> None:
        self.new.append(keys)
        self.count += len(keys)
        if self.count > max(1 << 21, len(self.kept)):
            self._merge()

    def _merge(self) -> None:
        # Every block's keys are already sorted, so a merge sort only joins sorted runs. A
        # pair seen under two conditions has identical keys, which end up side by side.
        keys = np.sort(np.concatenate([self.kept, *self.new]), kind="stable")
        if len(keys) > 1:
            unique = np.empty(len(keys), dtype=bool)
            unique[0] = True
            np.not_equal(keys[1:], keys[:-1], out=unique[1:])
            keys = keys[unique]
        ri = (keys >> np.uint64(44)).astype(np.int64)
        rank = _rank_in_run(ri)
        at = rank == self.k
        score = _W23 - ((keys[at] >> np.uint64(20)) & np.uint64(_W23)).astype(np.int64)
        self.cut[ri[at]] = np.maximum(self.cut[ri[at]], score)
        self.kept, self.new, self.count = keys[rank < self.k], [], 0

    def result(self) -> np.ndarray:
        """Return the merged keys, sorted, at most k per recipient."""
        self._merge()
        return self.kept


@dataclass(frozen=True)
class Pricing:
    """Result of checking rows against duals: improving pairs and each row's best gain."""

    edges: Edges
    rows: np.ndarray
    best: np.ndarray
    """max over the scanned supporters s of (w[r, s] - v[s]) for each priced row."""


def price(
    kernel: Kernel,
    active: np.ndarray,
    rows: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    tau: np.ndarray,
    per_row: int,
    *,
    workers: int,
    slack: int = 0,
) -> Pricing:
    """Find each row's best `per_row` pairs with w[r, s] > u[r] + v[s] - slack among the
    active supporters with v[s] < tau[r] - u[r] + slack (no other unpooled pair can have
    w - v > u - slack, given tau), by gain w - v (ties to the lower supporter).

    With slack 0 these are exactly the pairs violating the dual; a little slack also brings in
    pairs that are about to pay, which saves re-solves as the duals move. A pair sharing no
    condition scores at most scoring.unshared_bound, so a row meets all supporters only up
    to that reach and the rest only under a condition it shares with them (far fewer pairs).
    Each row's answer depends on that row alone, so big scans split rows across `workers`
    processes with the same answer.
    """
    problem = kernel.problem
    rows = np.asarray(rows, dtype=np.int64)
    unshared = np.minimum(tau, unshared_bound(problem, kernel.uw))
    passes = [(kernel.columns(active, key=v), None, unshared)]
    r_cond, s_cond = problem.recipients.conditions, problem.supporters.conditions
    bits = int(np.bitwise_or.reduce(r_cond[rows])) if len(rows) else 0
    for c in range(bits.bit_length()):
        bit = np.uint64(1 << c)
        group = active[(s_cond[active] & bit) != 0]
        if len(group):
            passes.append((kernel.columns(group, key=v, shared=True), bit, tau))

    def work(part: np.ndarray, threads: int) -> Pricing:
        return _price_rows(kernel, passes, part, u, v, per_row, threads, slack)

    parts = _parts(rows, workers, len(rows) * len(active))
    if parts is None:
        return work(rows, workers)
    priced = fork_map(lambda p: work(p, 1), parts)
    return Pricing(
        Edges.from_keys(np.concatenate([p.edges.packed() for p in priced])),
        np.concatenate([p.rows for p in priced]),
        np.concatenate([p.best for p in priced]),
    )


def _price_rows(
    kernel: Kernel,
    passes: list[tuple[_Columns, np.uint64 | None, np.ndarray]],
    rows: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    per_row: int,
    threads: int,
    slack: int,
) -> Pricing:
    """Price some rows in this process, pass by pass (see price)."""
    n = kernel.problem.n_recipients
    at = np.full(n, -1, dtype=np.int64)
    at[rows] = np.arange(len(rows))
    best = np.full(len(rows), -1.0)
    keys = []
    limits = np.zeros((n, 2), dtype=np.int64)
    r_cond = kernel.problem.recipients.conditions
    for cols, bit, reach_of in passes:
        chosen = rows if bit is None else rows[(r_cond[rows] & bit) != 0]
        reach = reach_of[chosen] - u[chosen] + slack
        v_sorted = v[cols.ids]
        lim = np.stack(
            [
                np.searchsorted(v_sorted[: cols.ip_start], reach),
                np.searchsorted(v_sorted[cols.ip_start :], reach),
            ],
            axis=1,
        )
        some = lim.sum(axis=1) > 0
        chosen, lim = chosen[some], lim[some]
        limits[chosen] = lim
        visit = _pricing_visit(cols, u, v, per_row, slack, limits)
        for pkeys, prow, pbest in kernel.scan(chosen, cols, visit, limits=lim, threads=threads):
            keys.append(pkeys)
            np.maximum.at(best, at[prow], pbest)
    found = Edges.from_keys(np.concatenate(keys) if keys else np.empty(0, np.uint64))
    # A pair may turn up in several passes; keep each row's best per_row by gain overall.
    gain = found.w.astype(np.int64) - v[found.si]
    order = np.lexsort((found.si, -gain, found.ri))
    kept = np.zeros(len(found), dtype=bool)
    kept[order[_rank_in_run(found.ri[order]) < per_row]] = True
    return Pricing(found.subset(kept), rows, best)


def _pricing_visit(
    cols: _Columns,
    u: np.ndarray,
    v: np.ndarray,
    per_row: int,
    slack: int,
    limits: np.ndarray,
) -> Visit:
    """A block visitor keeping pairs with gain w - v > u - slack within each row's limits."""

    def visit(block: np.ndarray, ids: np.ndarray, scores: np.ndarray) -> Found:
        n = len(ids)
        gain = scores[:n] - v[ids].astype(scores.dtype)[:, None]
        best = gain.max(axis=0) if n else np.full(len(block), -1.0)
        hit = np.flatnonzero(gain > (u[block] - slack).astype(scores.dtype)[None, :])
        # Infeasible pairs (score -1) with a free supporter (v = 0) pass when slack > u: they
        # must not take the places of real pairs.
        hit = hit[scores[:n].ravel()[hit] > 0]
        cc, rr = np.divmod(hit, len(block))
        # A block is scored as far as its neediest row needs: keep each row to its own limits,
        # so that a row's pairs do not depend on which rows share its block.
        col, lim = cols.col_of[ids[cc]], limits[block[rr]]
        own = (col < lim[:, 0]) | ((col >= cols.ip_start) & (col < cols.ip_start + lim[:, 1]))
        hit, cc, rr = hit[own], cc[own], rr[own]
        ri, si, g, _, _ = _top(block, ids, gain.ravel()[hit], rr, cc, per_row)
        return pack(ri, si, g + v[si]), block, best

    return visit
