"""Candidate generation (top-K per recipient) and pricing of pruned pairs against LP duals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .flow import Edges
from .kernel import CHUNK, Kernel, _Columns


@dataclass(frozen=True)
class Candidates:
    """Pruned candidate graph plus, per recipient, a bound on every pair left out."""

    edges: Edges
    tau: np.ndarray
    """tau[r] >= score of every feasible pair of recipient r that is not in `edges`."""


def _rank_in_row(rr: np.ndarray) -> np.ndarray:
    """Rank of each entry within its run of equal row numbers (rr sorted)."""
    if len(rr) == 0:
        return rr
    start = np.ones(len(rr), dtype=bool)
    start[1:] = rr[1:] != rr[:-1]
    first = np.flatnonzero(start)
    counts = np.diff(np.append(first, len(rr)))
    return np.arange(len(rr)) - np.repeat(first, counts)


def _top(
    rows: np.ndarray,
    columns: np.ndarray,
    key: np.ndarray,
    values: np.ndarray,
    rr: np.ndarray,
    cc: np.ndarray,
    keep: int,
    ties: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keep the `keep` entries of largest key per row (ties to the lower column).

    With `ties`, entries tied with the last kept one are kept too. Returns recipient rows,
    supporter columns and values of the kept entries, and per block row the largest key
    dropped (-inf if none was).
    """
    order = np.lexsort((cc, -key, rr))
    rr, cc, key, values = rr[order], cc[order], key[order], values[order]
    rank = _rank_in_row(rr)
    kept = rank < keep
    if ties:
        last = np.full(len(rows), np.inf)
        at = rank == keep - 1
        last[rr[at]] = key[at]
        kept |= key >= last[rr]
    cut = np.full(len(rows), -np.inf)
    np.maximum.at(cut, rr[~kept], key[~kept])
    return rows[rr[kept]], columns[cc[kept]], values[kept], cut


def select_top(k: int, ties: bool = False):  # noqa: ANN201
    """Return a block visitor keeping the top k positive pairs of every row (and ties)."""

    def visit(rows: np.ndarray, columns: np.ndarray, scores: np.ndarray):  # noqa: ANN202
        b, width = scores.shape
        groups = width // CHUNK
        # Each row splits into `groups` strided groups; the k-th largest group maximum is a
        # threshold that at least k entries reach, found without sorting whole rows.
        gmax = scores.reshape(b, CHUNK, groups).max(axis=1)
        if groups > k:
            thr = np.partition(gmax, groups - k, axis=1)[:, groups - k]
        else:
            thr = np.ones(b, dtype=scores.dtype)
        thr = np.maximum(thr, 1)
        hit = np.flatnonzero(scores >= thr[:, None])
        rr, cc = np.divmod(hit, width)
        values = scores.ravel()[hit]
        ri, si, w, cut = _top(rows, columns, values, values, rr, cc, k, ties)
        tau = np.maximum(np.where(np.isfinite(cut), cut, thr - 1), 0)
        return ri, si, w.astype(np.int64), rows, tau.astype(np.int64)

    return visit


def generate(
    kernel: Kernel, cols: _Columns, rows: np.ndarray, k: int, *, threads: int, ties: bool = False
) -> Candidates:
    """Score every row against all given supporters and keep its top k pairs (and ties)."""
    parts = kernel.scan(rows, cols, select_top(k, ties), threads=threads)
    n_recipients = kernel.problem.n_recipients
    tau = np.zeros(n_recipients, dtype=np.int64)
    ri, si, w = [], [], []
    for pri, psi, pw, prow, ptau in parts:
        ri.append(pri)
        si.append(psi)
        w.append(pw)
        tau[prow] = ptau
    edges = Edges.build(*(np.concatenate(x) if x else np.empty(0, np.int64) for x in (ri, si, w)))
    return Candidates(edges, tau)


@dataclass(frozen=True)
class Pricing:
    """Result of checking rows against duals: improving pairs and each row's best reduced gain."""

    edges: Edges
    rows: np.ndarray
    best: np.ndarray
    """max over feasible supporters s of (w[r, s] - v[s]) for each priced row (or -1)."""


def price(
    kernel: Kernel,
    cols: _Columns,
    rows: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    per_row: int,
    *,
    threads: int,
) -> Pricing:
    """Find pairs violating u[r] + v[s] >= w[r, s] among the given rows, best first per row."""

    def visit(block: np.ndarray, columns: np.ndarray, scores: np.ndarray):  # noqa: ANN202
        n = len(columns)
        gain = scores[:, :n] - v[columns].astype(scores.dtype)[None, :]
        best = gain.max(axis=1) if n else np.full(len(block), -1.0)
        hit = np.flatnonzero(gain > u[block].astype(scores.dtype)[:, None])
        rr, cc = np.divmod(hit, n)
        values = scores[:, :n].ravel()[hit]
        ri, si, w, _ = _top(block, columns, gain.ravel()[hit], values, rr, cc, per_row)
        return ri, si, w.astype(np.int64), block, best

    parts = kernel.scan(rows, cols, visit, threads=threads)
    ri, si, w, prow, best = [], [], [], [], []
    for pri, psi, pw, pr, pb in parts:
        ri.append(pri)
        si.append(psi)
        w.append(pw)
        prow.append(pr)
        best.append(pb)
    cat = lambda x, dt: np.concatenate(x).astype(dt) if x else np.empty(0, dt)  # noqa: E731
    edges = Edges.build(cat(ri, np.int64), cat(si, np.int64), cat(w, np.int64))
    return Pricing(edges, cat(prow, np.int64), cat(best, np.float64))
