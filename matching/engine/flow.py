"""Maximum-weight capacitated b-matching as a min-cost flow, and its LP dual."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow


@dataclass(frozen=True)
class Edges:
    """Candidate pairs with positive integer weights, sorted by (recipient, supporter)."""

    ri: np.ndarray
    si: np.ndarray
    w: np.ndarray

    @classmethod
    def build(cls, ri: np.ndarray, si: np.ndarray, w: np.ndarray) -> Edges:
        """Keep positive-weight pairs, drop duplicates and sort canonically."""
        ri, si, w = (np.asarray(a, dtype=np.int64) for a in (ri, si, w))
        keep = w > 0
        ri, si, w = ri[keep], si[keep], w[keep]
        if len(ri) and ri.max() < 1 << 31 and si.max() < 1 << 31:
            order = np.argsort((ri << 32) | si)
        else:
            order = np.lexsort((si, ri))
        ri, si, w = ri[order], si[order], w[order]
        if len(ri) > 1:
            first = np.ones(len(ri), dtype=bool)
            first[1:] = (ri[1:] != ri[:-1]) | (si[1:] != si[:-1])
            ri, si, w = ri[first], si[first], w[first]
        return cls(ri, si, w)

    def __len__(self) -> int:
        return len(self.ri)

    def subset(self, mask: np.ndarray) -> Edges:
        """Return the edges where mask is True (order kept)."""
        return Edges(self.ri[mask], self.si[mask], self.w[mask])

    def merge(self, other: Edges) -> Edges:
        """Return the union of two edge sets."""
        return Edges.build(
            np.concatenate([self.ri, other.ri]),
            np.concatenate([self.si, other.si]),
            np.concatenate([self.w, other.w]),
        )


def solve(edges: Edges, n_recipients: int, capacity: np.ndarray) -> np.ndarray:
    """Return the supporter index of every recipient (-1 if none) in a max-weight b-matching.

    Every recipient sends one unit to the sink, either through a supporter (cost -weight) or
    through a bypass arc of cost 0, so leaving someone unmatched is always allowed and only
    positive-weight pairs are worth taking: the min cost is minus the maximum total weight.
    """
    n, m = n_recipients, len(capacity)
    match = np.full(n, -1, dtype=np.int64)
    if len(edges) == 0 or n == 0:
        return match
    sink = n + m
    flow = min_cost_flow.SimpleMinCostFlow()
    sup = np.arange(m, dtype=np.int64)
    rec = np.arange(n, dtype=np.int64)
    tails = np.concatenate([edges.ri, n + sup, rec])
    heads = np.concatenate([n + edges.si, np.full(m, sink), np.full(n, sink)])
    caps = np.concatenate(
        [np.ones(len(edges), np.int64), capacity.astype(np.int64), np.ones(n, np.int64)]
    )
    costs = np.concatenate([-edges.w, np.zeros(m + n, np.int64)])
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n + m + 1, dtype=np.int64)
    supplies[:n] = 1
    supplies[sink] = -n
    flow.set_nodes_supplies(np.arange(n + m + 1, dtype=np.int64), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min cost flow failed with status {status}")
    used = flow.flows(np.arange(len(edges), dtype=np.int64)) > 0
    match[edges.ri[used]] = edges.si[used]
    return match


@dataclass(frozen=True)
class Duals:
    """Optimal LP duals: u per recipient, v per supporter, both >= 0, u + v >= w on edges."""

    u: np.ndarray
    v: np.ndarray


def duals(edges: Edges, match: np.ndarray, capacity: np.ndarray) -> Duals:
    """Compute the duals with the smallest v from an optimal matching (label correcting).

    Complementary slackness fixes u = w - v on matched pairs, u = 0 for unmatched recipients
    and v = 0 for supporters with a free place; v only rises while an edge asks for more, so
    this Bellman-Ford style iteration ends exactly when the matching is optimal.
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
    for _ in range(n + m + 2):
        idx = _gather(starts, frontier)
        if len(idx) == 0:
            break
        ask = edges.w[idx] - u[edges.ri[idx]]
        target = edges.si[idx]
        if np.any((ask > 0) & ~full[target]):
            raise RuntimeError("matching is not optimal: an edge to a free supporter pays")
        proposal = v.copy()
        np.maximum.at(proposal, target, ask)
        changed = np.flatnonzero(proposal > v)
        if len(changed) == 0:
            break
        v[changed] = proposal[changed]
        frontier = by_sup[_gather(sup_starts, changed)]
        u[frontier] = w_match[frontier] - v[match[frontier]]
    else:
        raise RuntimeError("dual iteration did not converge")
    if np.any(u < 0):
        raise RuntimeError("matching is not optimal: negative recipient dual")
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
