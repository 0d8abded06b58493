"""Re-solve a max-weight b-matching from a previous optimum: shortest augmenting paths.

After the first flow, each re-solve sees nearly the same pairs with near-optimal duals, which
OR-Tools' cost-scaling flow cannot use: it starts from scratch every time (1-2 s at 50,000
people). Here the previous matching and supporter duals `v` are the starting point:

1. Rows whose pair is no longer their best option under `v` (or who now have a paying pair)
   let go of it. Every other row stays tight and dual feasible.
2. Each such row searches (Dijkstra on reduced costs) for its cheapest augmenting path: to a
   supporter with a free place, or to someone on the path giving their place up (a row may
   stay unmatched: that costs its dual). Duals of the supporters the search settled rise.
3. A supporter left with a free place must not be paid (v = 0): a reverse search lowers its
   `v` until a row can join it (shifting rows along a path) or `v` reaches 0.

Every step keeps u + v >= w on every pair and u, v >= 0, so the end is the optimum of the
given pairs. The caller still proves it (flow.duals raises NotOptimal otherwise) and falls
back to OR-Tools, so a mistake here could cost time, never a wrong answer. Compiled with
numba (cached on disk)
`load()` compiles or loads it ahead of the first run.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .flow import Edges

_JIT = {"cache": True, "nogil": True}


@njit(**_JIT)
def _find(indptr, col, i, j):
    lo, hi = indptr[i], indptr[i + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if col[mid] < j:
            lo = mid + 1
        else:
            hi = mid
    if lo < indptr[i + 1] and col[lo] == j:
        return lo
    return -1


@njit(**_JIT)
def _remove(slots, start, load, j, k):
    s = start[j]
    last = s + load[j] - 1
    for t in range(s, last + 1):
        if slots[t] == k:
            slots[t] = slots[last]
            load[j] -= 1
            return


@njit(**_JIT)
def _add(slots, start, load, j, k):
    slots[start[j] + load[j]] = k
    load[j] += 1


@njit(**_JIT)
def _heap_push(hd, hc, size, d, c):
    i = size
    hd[i] = d
    hc[i] = c
    while i > 0:
        p = (i - 1) >> 1
        if hd[p] > hd[i] or (hd[p] == hd[i] and hc[p] > hc[i]):
            hd[p], hd[i] = hd[i], hd[p]
            hc[p], hc[i] = hc[i], hc[p]
            i = p
        else:
            break
    return size + 1


@njit(**_JIT)
def _heap_pop(hd, hc, size):
    d, c = hd[0], hc[0]
    size -= 1
    hd[0] = hd[size]
    hc[0] = hc[size]
    i = 0
    while True:
        lc = 2 * i + 1
        if lc >= size:
            break
        r = lc + 1
        s = lc
        if r < size and (hd[r] < hd[lc] or (hd[r] == hd[lc] and hc[r] < hc[lc])):
            s = r
        if hd[s] < hd[i] or (hd[s] == hd[i] and hc[s] < hc[i]):
            hd[s], hd[i] = hd[i], hd[s]
            hc[s], hc[i] = hc[i], hc[s]
            i = s
        else:
            break
    return d, c, size


@njit(**_JIT)
def _relax(dist, pred, touched, nt, hd, hc, size, inf, j, d, via):
    """Offer column j at distance d, reached through row `via`; return (nt, size)."""
    if d < dist[j]:
        if dist[j] == inf:
            touched[nt] = j
            nt += 1
        dist[j] = d
        pred[j] = via
        size = _heap_push(hd, hc, size, d, j)
    return nt, size


@njit(**_JIT)
def _settle(hd, hc, size, dist, done, bound):
    """Pop the nearest column not yet settled and settle it; (d, j, size), j = -1 when none
    is nearer than `bound` (stale heap entries are skipped)."""
    while size > 0:
        d, j, size = _heap_pop(hd, hc, size)
        if done[j] or d > dist[j]:
            continue
        if d >= bound:
            break
        done[j] = True
        return d, j, size
    return np.int64(0), np.int64(-1), size


@njit(**_JIT)
def _move(slots, start, load, assign, rows, to, moves):
    """Move rows[q] to column to[q] (-1: unmatched): all leave first, so none overflows."""
    for q in range(moves):
        k = rows[q]
        if assign[k] >= 0:
            _remove(slots, start, load, assign[k], k)
    for q in range(moves):
        k = rows[q]
        assign[k] = to[q]
        if to[q] >= 0:
            _add(slots, start, load, to[q], k)


@njit(**_JIT)
def _forget(touched, nt, dist, done, inf):
    """Clear the labels of one search (predecessors are always set before they are read)."""
    for q in range(nt):
        dist[touched[q]] = inf
        done[touched[q]] = False


@njit(**_JIT)
def _solve_warm(indptr, col, w, cap, assign0, v0):
    n = len(indptr) - 1
    m = len(cap)
    inf = np.int64(1) << 62
    assign = assign0.copy()
    v = v0.copy()
    start = np.zeros(m + 1, np.int64)
    for j in range(m):
        start[j + 1] = start[j] + cap[j]
    slots = np.full(start[m], -1, np.int64)
    load = np.zeros(m, np.int64)
    for i in range(n):
        j = assign[i]
        if j >= 0:
            if _find(indptr, col, i, j) < 0 or load[j] >= cap[j]:
                assign[i] = -1
            else:
                _add(slots, start, load, j, i)
    # 1. Rows not on their best option under v (gain w - v, or 0 alone) let go.
    free_row = np.zeros(n, np.bool_)
    for i in range(n):
        best = np.int64(0)
        for e in range(indptr[i], indptr[i + 1]):
            g = w[e] - v[col[e]]
            if g > best:
                best = g
        j = assign[i]
        cur = np.int64(0)
        if j >= 0:
            cur = w[_find(indptr, col, i, j)] - v[j]
        if cur < best:
            if j >= 0:
                _remove(slots, start, load, j, i)
                assign[i] = -1
            free_row[i] = True
    # 2. Each free row's shortest augmenting path (Dijkstra over supporters; a row giving its
    # place up to stay unmatched is a path's end too).
    dist = np.full(m, inf, np.int64)
    done = np.zeros(m, np.bool_)
    pred = np.full(m, -1, np.int64)
    touched = np.empty(m, np.int64)
    hd = np.empty(len(col) + n + 16, np.int64)
    hc = np.empty(len(col) + n + 16, np.int64)
    mrow = np.empty(m + n + 1, np.int64)
    mto = np.empty(m + n + 1, np.int64)
    for r in range(n):
        if not free_row[r]:
            continue
        # u_r = max(0, max_j w - v); dist_j = u_r - (w_rj - v_j) >= 0 (max form of reduced cost)
        ur = np.int64(0)
        for e in range(indptr[r], indptr[r + 1]):
            g = w[e] - v[col[e]]
            if g > ur:
                ur = g
        nt = 0
        size = 0
        best_dummy = ur  # r stays unmatched: its own dummy, cost u_r - 0
        dummy_row = r
        for e in range(indptr[r], indptr[r + 1]):
            j = col[e]
            nt, size = _relax(dist, pred, touched, nt, hd, hc, size, inf, j, ur - (w[e] - v[j]), r)
        term = -1
        D = best_dummy
        while True:
            d, j, size = _settle(hd, hc, size, dist, done, best_dummy)
            if j < 0:
                break
            if load[j] < cap[j]:
                term = j
                D = d
                break
            # full: every row k on j may move elsewhere (or to its dummy)
            for t in range(start[j], start[j] + load[j]):
                k = slots[t]
                e0 = _find(indptr, col, k, j)
                uk = w[e0] - v[j]  # k's dual: tight on its column
                dd = d + uk  # k to its dummy: gain 0, reduced u_k - 0
                if dd < best_dummy:
                    best_dummy = dd
                    dummy_row = k
                for e in range(indptr[k], indptr[k + 1]):
                    lc = col[e]
                    if lc == j or done[lc]:
                        continue
                    nd = d + uk - (w[e] - v[lc])
                    nt, size = _relax(dist, pred, touched, nt, hd, hc, size, inf, lc, nd, k)
        if term < 0:
            D = best_dummy
        # duals: finalized columns (all full) rise by D - dist
        for q in range(nt):
            j = touched[q]
            if done[j] and dist[j] < D:
                v[j] += D - dist[j]
        # augment
        if term >= 0:
            t = term
            k = pred[t]
        else:
            k = dummy_row
            t = -1
        # Rows leave their places first, then take the new ones (a column never overflows).
        moves = 0
        while True:
            prev = assign[k]
            mrow[moves] = k
            mto[moves] = t
            moves += 1
            if k == r:
                break
            t = prev
            k = pred[prev]
        _move(slots, start, load, assign, mrow, mto, moves)
        _forget(touched, nt, dist, done, inf)
    # 3. A supporter with a free place must not be paid (v = 0). Lower its v until a row can
    # join it (tight), shifting rows along a path, or until v reaches 0.
    cptr = np.zeros(m + 1, np.int64)
    for e in range(len(col)):
        cptr[col[e] + 1] += 1
    for j in range(m):
        cptr[j + 1] += cptr[j]
    crow = np.empty(len(col), np.int64)
    cedge = np.empty(len(col), np.int64)
    fill = cptr[:m].copy()
    for i in range(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = col[e]
            crow[fill[j]] = i
            cedge[fill[j]] = e
            fill[j] += 1
    prow = np.full(m, -1, np.int64)
    pcol = np.full(m, -1, np.int64)
    for j0 in range(m):
        while load[j0] < cap[j0] and v[j0] > 0:
            nt = 0
            size = 0
            dist[j0] = 0
            touched[nt] = j0
            nt += 1
            size = _heap_push(hd, hc, size, 0, j0)
            best = v[j0]
            kind = 0
            tcol = j0
            trow = -1  # kind 0: v[tcol] falls to 0; kind 1: unmatched row trow joins tcol
            while True:
                d, x, size = _settle(hd, hc, size, dist, done, best)
                if x < 0:
                    break
                if x != j0 and d + v[x] < best:
                    best = d + v[x]
                    kind = 0
                    tcol = x
                for q in range(cptr[x], cptr[x + 1]):
                    i = crow[q]
                    y = assign[i]
                    if y == x:
                        continue
                    ui = np.int64(0)
                    if y >= 0:
                        ui = w[_find(indptr, col, i, y)] - v[y]
                    sl = ui + v[x] - w[cedge[q]]
                    nd = d + sl
                    if y < 0:
                        if nd < best:
                            best = nd
                            kind = 1
                            tcol = x
                            trow = i
                    elif not done[y] and nd < dist[y]:
                        pcol[y] = x
                        nt, size = _relax(dist, prow, touched, nt, hd, hc, size, inf, y, nd, i)
            for q in range(nt):
                x = touched[q]
                if done[x] and dist[x] < best:
                    v[x] -= best - dist[x]
            moves = 0
            x = tcol
            while x != j0:
                mrow[moves] = prow[x]
                mto[moves] = pcol[x]
                moves += 1
                x = pcol[x]
            if kind == 1:
                mrow[moves] = trow
                mto[moves] = tcol
                moves += 1
            _move(slots, start, load, assign, mrow, mto, moves)
            _forget(touched, nt, dist, done, inf)
    return assign


def solve_from(
    edges: Edges, n_recipients: int, capacity: np.ndarray, previous: np.ndarray, v: np.ndarray
) -> np.ndarray:
    """The supporter index of every recipient (-1 if none) in a max-weight b-matching of
    these edges, starting from a previous matching and supporter duals (both may be rough)."""
    indptr = np.searchsorted(edges.ri, np.arange(n_recipients + 1)).astype(np.int64)
    return _solve_warm(
        indptr,
        edges.si.astype(np.int64),
        edges.w.astype(np.int64),
        np.asarray(capacity, dtype=np.int64),
        np.asarray(previous, dtype=np.int64),
        np.maximum(np.asarray(v, dtype=np.int64), 0),
    )


def load() -> None:
    """Compile (or load from the cache) the solver now, not in the first matching run."""
    empty = Edges(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32))
    solve_from(empty, 1, np.ones(1, np.int64), np.full(1, -1), np.zeros(1, np.int64))
