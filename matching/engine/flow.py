"""Maximum-weight capacitated b-matching as a min-cost flow, and its LP dual."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow


@dataclass(frozen=True)
class Edges:
    """Candidate pairs with positive integer weights, sorted by (recipient, supporter).

    Stored as int32 to keep pools of millions of pairs small.
    """

    ri: np.ndarray
    si: np.ndarray
    w: np.ndarray

    @classmethod
    def build(cls, ri: np.ndarray, si: np.ndarray, w: np.ndarray) -> Edges:
        """Keep positive-weight pairs, drop duplicates and sort canonically."""
        return cls.from_keys(pack(ri, si, w))

    @classmethod
    def from_keys(cls, keys: np.ndarray) -> Edges:
        """Build from packed keys (see pack), dropping non-positive weights and duplicates."""
        return cls.flagged(keys)[0]

    @classmethod
    def flagged(cls, keys: np.ndarray, runs: bool = False) -> tuple[Edges, np.ndarray]:
        """Build from packed keys; also return, per edge, whether any copy was not in reserve.

        The keys array may be sorted in place; memory stays near twice its size. With `runs`
        the keys are a few sorted runs, which a merge sort joins in linear time.
        """
        if len(keys) and not np.all(keys & _W_BITS):
            keys = keys[(keys & _W_BITS) > 0]
        keys.sort(kind="stable" if runs else None)
        if len(keys) > 1:
            # Copies of a pair sort together, one outside the reserve (if any) first.
            pair = keys >> np.uint64(24)
            first = np.empty(len(keys), dtype=bool)
            first[0] = True
            np.not_equal(pair[1:], pair[:-1], out=first[1:])
            del pair
            keys = keys[first]
        ri = (keys >> np.uint64(44)).astype(np.int32)
        si = ((keys >> np.uint64(24)) & np.uint64((1 << 20) - 1)).astype(np.int32)
        w = (keys & _W_BITS).astype(np.int32)
        return cls(ri, si, w), (keys & _RESERVE) == 0

    def __len__(self) -> int:
        return len(self.ri)

    def keys(self) -> np.ndarray:
        """Return sorted int64 keys (recipient << 32 | supporter), for lookups."""
        return pair_keys(self.ri, self.si)

    def subset(self, mask: np.ndarray) -> Edges:
        """Return the edges where mask is True (order kept)."""
        return Edges(self.ri[mask], self.si[mask], self.w[mask])

    def merge(self, other: Edges) -> Edges:
        """Return the union of two edge sets."""
        return Edges.flagged(np.concatenate([self.packed(), other.packed()]), runs=True)[0]

    def packed(self) -> np.ndarray:
        """Return the edges as packed keys (see pack), in order."""
        return pack(self.ri, self.si, self.w)

    def find(self, other: Edges) -> np.ndarray:
        """Return the positions of other's pairs, all of which must be among these edges."""
        return np.searchsorted(self.keys(), other.keys())

    def weight_of(self, ri: np.ndarray, si: np.ndarray) -> np.ndarray:
        """Return the weights of pairs known to be among the edges."""
        return self.w[np.searchsorted(self.keys(), pair_keys(ri, si))].astype(np.int64)


_RESERVE = np.uint64(1 << 23)
_W_BITS = np.uint64((1 << 23) - 1)


def pack(
    ri: np.ndarray, si: np.ndarray, w: np.ndarray, reserve: np.ndarray | None = None
) -> np.ndarray:
    """Pack pairs into uint64 keys: recipient(20 bits) | supporter(20) | reserve(1) | weight(23).

    Sorting the keys sorts the pairs canonically; model.MAX_PEOPLE and scoring.MAX_UNITS
    keep every field in range (weights are clipped to it, and at 0).
    """
    w = np.asarray(w)
    if len(w) and (w.min() < 0 or w.max() > _W_BITS):
        w = np.clip(w.astype(np.int64), 0, int(_W_BITS))
    keys = np.asarray(ri).astype(np.uint64)
    keys <<= np.uint64(20)
    keys |= np.asarray(si).astype(np.uint64)
    keys <<= np.uint64(24)
    keys |= w.astype(np.uint64)
    if reserve is not None:
        keys |= np.asarray(reserve).astype(np.uint64) << np.uint64(23)
    return keys


def pair_keys(ri: np.ndarray, si: np.ndarray) -> np.ndarray:
    """Return int64 keys recipient << 32 | supporter."""
    keys = np.asarray(ri).astype(np.int64)
    keys <<= 32
    keys |= np.asarray(si).astype(np.int64)
    return keys


def solve(
    edges: Edges, n_recipients: int, capacity: np.ndarray, hint: Duals | None = None
) -> np.ndarray:
    """Return the supporter index of every recipient (-1 if none) in a max-weight b-matching.

    A min-cost circulation: source -> recipient (capacity 1), recipient -> supporter (cost
    -weight), supporter -> sink (its capacity) and sink -> source, all supplies zero. Only the
    pair arcs cost anything, so the cheapest circulation takes exactly the set of pairs of
    maximum total weight; nobody has to be matched, and pairs of weight <= 0 never are.
    Only people with at least one edge become nodes.

    A `hint` (duals of a similar problem) shifts every arc cost by node potentials (recipient
    u, supporter -v): each circulation's cost is unchanged, but the solver starts closer to
    optimal.
    """
    match = np.full(n_recipients, -1, dtype=np.int64)
    if len(edges) == 0 or n_recipients == 0:
        return match
    r_node, rec = _compact(edges.ri, n_recipients)
    s_node, sup = _compact(edges.si, len(capacity))
    n, m = len(rec), len(sup)
    source, sink = n + m, n + m + 1
    u = np.zeros(n, np.int64) if hint is None else hint.u[rec]
    v = np.zeros(m, np.int64) if hint is None else hint.v[sup]
    cost = -edges.w.astype(np.int64)
    if hint is not None:
        cost += hint.u[edges.ri] + hint.v[edges.si]
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        r_node, n + s_node, np.ones(len(edges), np.int64), cost
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        np.full(n, source), np.arange(n), np.ones(n, np.int64), -u
    )
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(n, n + m), np.full(m, sink), capacity[sup].astype(np.int64), -v
    )
    flow.add_arc_with_capacity_and_unit_cost(sink, source, n, 0)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min cost flow failed with status {status}")
    used = flow.flows(np.arange(len(edges), dtype=np.int64)) > 0
    match[edges.ri[used]] = edges.si[used]
    return match


def _compact(ids: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Number the distinct ids 0.. in order; return each id's number and the distinct ids."""
    present = np.bincount(ids, minlength=size) > 0
    number = np.cumsum(present) - 1
    return number[ids], np.flatnonzero(present)


@dataclass(frozen=True)
class Duals:
    """Optimal LP duals: u per recipient, v per supporter, both >= 0, u + v >= w on edges."""

    u: np.ndarray
    v: np.ndarray


class NotOptimal(RuntimeError):
    """The matching is not optimal on these edges (or could not be shown to be in time)."""


def duals(
    edges: Edges, match: np.ndarray, capacity: np.ndarray, max_iterations: int | None = None
) -> Duals:
    """Compute the duals with the smallest v from an optimal matching (label correcting).

    Complementary slackness fixes u = w - v on matched pairs, u = 0 for unmatched recipients
    and v = 0 for supporters with a free place; v only rises while an edge asks for more, so
    this Bellman-Ford style iteration ends exactly when the matching is optimal, and raises
    NotOptimal as soon as some u would turn negative or a free supporter would be paid.
    """
    n, m = len(match), len(capacity)
    matched = match >= 0
    w_match = np.zeros(n, dtype=np.int64)
    if len(edges):
        on = matched[edges.ri] & (match[edges.ri] == edges.si)
        w_match[edges.ri[on]] = edges.w[on]
    load = np.bincount(match[matched], minlength=m)
    full = (load >= capacity) & (capacity > 0)
    v = np.zeros(m, dtype=np.int64)
    u = np.where(matched, w_match, 0)
    starts = np.searchsorted(edges.ri, np.arange(n + 1))
    # Recipients grouped by their supporter, to find whose u moves when a v rises.
    by_sup = np.argsort(np.where(matched, match, m), kind="stable")
    sup_starts = np.searchsorted(np.where(matched, match, m)[by_sup], np.arange(m + 1))
    frontier = np.arange(n, dtype=np.int64)
    for _ in range(n + m + 2 if max_iterations is None else max_iterations):
        idx = _gather(starts, frontier)
        if len(idx) == 0:
            break
        ask = edges.w[idx] - u[edges.ri[idx]]
        target = edges.si[idx]
        if np.any((ask > 0) & ~full[target]):
            raise NotOptimal("an edge to a supporter with a free place pays")
        proposal = v.copy()
        np.maximum.at(proposal, target, ask)
        changed = np.flatnonzero(proposal > v)
        if len(changed) == 0:
            break
        v[changed] = proposal[changed]
        frontier = by_sup[_gather(sup_starts, changed)]
        u[frontier] = w_match[frontier] - v[match[frontier]]
        # u only falls from here on, and an optimal matching has u >= 0.
        if np.any(u[frontier] < 0):
            raise NotOptimal("a recipient's dual turned negative")
    else:
        raise NotOptimal("the dual iteration did not settle")
    return Duals(u, v)


def _gather(starts: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Return the concatenated index ranges starts[k]:starts[k+1] for every key."""
    lo, hi = starts[keys], starts[keys + 1]
    lengths = hi - lo
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.repeat(lo - np.cumsum(lengths) + lengths, lengths)
    return offsets + np.arange(total, dtype=np.int64)
