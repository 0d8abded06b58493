"""Vectorised scoring of blocks of recipients against many supporters at once.

Pairwise counts (shared slots, conditions, experiences) and all criteria that are linear in
them come from small float matrix products over 0/1 feature matrices; these are exact because
every value is an integer below 2**24. Hard checks are bitwise operations on narrow integers.
Work happens in tiles of BLOCK_ROWS x TILE_COLS that stay in cache, with buffers reused per
thread, because allocating large temporaries costs more than the arithmetic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .constraints import cos_of_km
from .model import FORMATS, IN_PERSON, N_SLOTS, Problem
from .scoring import UnitWeights

CHUNK = 64
"""Full scans are padded to a multiple of CHUNK supporters (see candidates.select_top)."""
BLOCK_ROWS = 256
TILE_COLS = 512
INFEASIBLE = -1.0

Visit = Callable[[np.ndarray, np.ndarray, np.ndarray], object]


def bit_matrix(masks: np.ndarray, nbits: int, dtype: type = np.float32) -> np.ndarray:
    """Expand integer bit masks into a 0/1 matrix of shape (len(masks), nbits)."""
    shifts = np.arange(nbits, dtype=np.uint64)
    bits = (masks.astype(np.uint64)[:, None] >> shifts[None, :]) & np.uint64(1)
    return np.ascontiguousarray(bits.astype(dtype))


def _nbits(*masks: np.ndarray) -> int:
    """Return how many low bits the masks use (at least 1)."""
    top = 0
    for m in masks:
        if len(m):
            top = max(top, int(np.bitwise_or.reduce(m.astype(np.uint64))).bit_length())
    return max(top, 1)


def _narrow(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Store two mask arrays in the narrowest unsigned type that holds their bits."""
    bits = _nbits(a, b)
    widths = ((np.uint8, 8), (np.uint16, 16), (np.uint32, 32), (np.uint64, 64))
    dt = next(t for t, n in widths if bits <= n)
    return a.astype(dt), b.astype(dt)


@dataclass
class _Columns:
    """Supporter-side matrices for one column order, padded to whole chunks."""

    ids: np.ndarray
    width: int
    ip_start: int
    lin: np.ndarray
    lin_exp: np.ndarray
    avail: np.ndarray
    cond: np.ndarray
    exp: np.ndarray
    xyz: np.ndarray
    lang: np.ndarray
    fmt: np.ndarray
    excl: np.ndarray
    col_of: np.ndarray
    shared: bool = False
    """Every row scanned against these columns shares a condition with every one of them."""


class _Workspace(threading.local):
    """Per-thread scratch buffers, grown on demand and reused across tiles."""

    def get(self, name: str, shape: tuple[int, int], dtype: type) -> np.ndarray:
        size = shape[0] * shape[1]
        buf = self.__dict__.get(name)
        if buf is None or buf.size < size or buf.dtype != dtype:
            buf = np.empty(max(size, 1), dtype=dtype)
            self.__dict__[name] = buf
        return buf[:size].reshape(shape)


class Kernel:
    """Scores pairs of one problem in blocks; supporters with no free place can be left out."""

    def __init__(self, problem: Problem, uw: UnitWeights) -> None:
        self.problem, self.uw = problem, uw
        r, s = problem.recipients, problem.supporters
        # float32 products and sums of integers are exact below 2**24 (see scoring.MAX_UNITS).
        self.dtype = dt = np.float32
        nc = _nbits(r.conditions, s.conditions)
        ne = _nbits(r.experiences, s.experiences)
        self.ra = bit_matrix(r.availability, N_SLOTS, dt)
        # Shared slots come out of the product already in points (or as a plain count if
        # slots score nothing, since the count still decides feasibility).
        self.slot_units = uw.slot if uw.slot > 0 else 1
        self.sa = bit_matrix(s.availability, N_SLOTS, dt) * dt(self.slot_units)
        self.rc = bit_matrix(r.conditions, nc, dt)
        self.sc = bit_matrix(s.conditions, nc, dt)
        self.re = bit_matrix(r.experiences, ne, dt)
        self.se = bit_matrix(s.experiences, ne, dt)
        rl, sl = self._linear_features()
        self.rl, self.sl = rl, sl
        # Where no cap can bind, shared experiences are linear too.
        self.rl_exp = np.ascontiguousarray(
            np.hstack([rl, self.re * uw.experience[:, None]]), dtype=dt
        )
        self.sl_exp = np.ascontiguousarray(np.hstack([sl, self.se]), dtype=dt)
        # Pairs known to share a condition get the first condition's points as a constant.
        self.w_first = (uw.condition - uw.extra_condition).astype(dt)
        const = rl.shape[1] - 1
        self.rl_sh, self.rl_exp_sh = self.rl.copy(), self.rl_exp.copy()
        self.rl_sh[:, const] += self.w_first
        self.rl_exp_sh[:, const] += self.w_first
        self.cap_c = 1 + uw.max_extra_conditions
        self.cap_e = uw.max_experiences
        self.cond_capped = np.bitwise_count(r.conditions) > self.cap_c
        self.exp_capped = np.bitwise_count(r.experiences) > self.cap_e
        self.slots_capped = np.bitwise_count(r.availability) > uw.max_slots
        self.w_extra = uw.extra_condition.astype(dt)
        self.w_exp = uw.experience.astype(dt)
        self.r_lang, self.s_lang = _narrow(r.languages, s.languages)
        self.r_tags, self.s_excl = _narrow(r.tags, s.excludes)
        self.r_ip = (r.formats & IN_PERSON) != 0
        self.cos_limit = cos_of_km(problem.rules.max_distance_km)
        near = uw.closeness_units
        steps = near - np.append(near[1:], 0)
        # Band b adds (points of b) - (points of b+1), so nearer pairs collect every step.
        self.close_steps = [
            (float(t), dt(d)) for t, d in zip(uw.closeness_dot, steps, strict=True) if d
        ]
        self._ws = _Workspace()
        self._executor: ThreadPoolExecutor | None = None

    def _linear_features(self) -> tuple[np.ndarray, np.ndarray]:
        """Build features whose dot product is caring situation + age + format + constants.

        A recipient's age vector holds the same-band points at their band and the adjacent-band
        points next to it, so one product with the supporter's one-hot band gives the age score.
        """
        p, uw, dt = self.problem, self.uw, self.dtype
        r, s = p.recipients, p.supporters
        bands = np.unique(np.concatenate([r.age_band, s.age_band]))
        bands = bands[bands >= 0]
        nb = max(len(bands), 1)
        age_r = np.zeros((len(r.ids), nb), dtype=np.float64)
        known = np.flatnonzero(r.age_band >= 0)
        for shift, points in (
            (-1, uw.adjacent_age_band),
            (1, uw.adjacent_age_band),
            (0, uw.same_age_band),
        ):
            target = r.age_band[known].astype(np.int64) + shift
            j = np.minimum(np.searchsorted(bands, target), nb - 1)
            hit = bands[j] == target if len(bands) else np.zeros(len(known), dtype=bool)
            age_r[known[hit], j[hit]] = points[known[hit]]
        age_s = np.zeros((len(s.ids), nb), dtype=np.float64)
        known = np.flatnonzero(s.age_band >= 0)
        age_s[known, np.searchsorted(bands, s.age_band[known])] = 1
        rl = np.hstack(
            [
                bit_matrix(r.role, 2, np.float64) * uw.caring_situation[:, None],
                age_r,
                bit_matrix(r.preferred_format, len(FORMATS), np.float64) * uw.preferred_format,
                # The extra 1 lets infeasible pairs become -1 with one multiplication.
                (uw.compatible + uw.waiting + 1).astype(np.float64)[:, None],
            ]
        )
        sl = np.hstack(
            [
                bit_matrix(s.roles, 2, np.float64),
                age_s,
                bit_matrix(s.formats, len(FORMATS), np.float64),
                np.ones((len(s.ids), 1)),
            ]
        )
        return np.ascontiguousarray(rl, dtype=dt), np.ascontiguousarray(sl, dtype=dt)

    def columns(
        self, supporters: np.ndarray, key: np.ndarray | None = None, shared: bool = False
    ) -> _Columns:
        """Prepare supporter matrices: others first, then in-person ones, each by (key, index).

        `shared` promises that only rows sharing a condition with all of them will be scanned.
        """
        s = self.problem.supporters
        sup = np.asarray(supporters, dtype=np.int64)
        ip = (s.formats[sup] & IN_PERSON) != 0
        if key is None:
            # Like supporters side by side, so that whole tiles can skip a check.
            keys = (sup, s.formats[sup], self.s_excl[sup], self.s_lang[sup], ip)
        else:
            keys = (sup, np.asarray(key)[sup], ip)
        ids = sup[np.lexsort(keys)]
        n = len(ids)
        width = max(CHUNK, -(-n // CHUNK) * CHUNK)

        def padded(mat: np.ndarray, fill: float = 0) -> np.ndarray:
            out = np.full((width,) + mat.shape[1:], fill, dtype=mat.dtype)
            out[:n] = mat[ids]
            return out

        col_of = np.full(self.problem.n_supporters, -1, dtype=np.int64)
        col_of[ids] = np.arange(n)
        return _Columns(
            ids=ids,
            width=width,
            ip_start=int((~ip).sum()),
            lin=padded(self.sl),
            lin_exp=padded(self.sl_exp),
            avail=padded(self.sa),
            cond=padded(self.sc),
            exp=padded(self.se),
            xyz=padded(s.xyz, np.nan),
            lang=padded(self.s_lang),
            fmt=padded(s.formats),
            excl=padded(self.s_excl),
            col_of=col_of,
            shared=shared,
        )

    def scan(
        self,
        rows: np.ndarray,
        cols: _Columns,
        visit: Visit,
        *,
        limits: np.ndarray | None = None,
        threads: int = 1,
    ) -> list[object]:
        """Score rows x cols block by block and return visit(block_rows, ids, scores) per block.

        `scores` is transposed: one line per supporter (ids), one column per block row. Without
        limits every supporter is scored and there are cols.width lines (a multiple of CHUNK).
        With limits, row i needs only the first limits[i, 0] other and limits[i, 1] in-person
        supporters, and a block covers the most any of its rows needs. Lines past len(ids)
        are INFEASIBLE padding. Results come in a fixed order whatever the threads do.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if limits is None:
            fmt = self.problem.recipients.formats[rows]
            order = np.lexsort((rows, fmt, self.r_tags[rows], self.r_lang[rows], ~self.r_ip[rows]))
        else:
            limits = np.asarray(limits, dtype=np.int64).reshape(-1, 2)
            order = np.lexsort((rows, -limits.sum(axis=1)))
            limits = limits[order]
        rows = rows[order]
        size = BLOCK_ROWS
        starts = range(0, len(rows) if len(cols.ids) else 0, size)

        def work(start: int) -> object:
            # Within a block, rows go by index, so the block's results come out sorted.
            block = np.sort(rows[start : start + size])
            if limits is None:
                segments = [(0, cols.width, 0)]
            else:
                lim = limits[start : start + size].max(axis=0)
                n0 = min(int(lim[0]), cols.ip_start)
                n1 = min(int(lim[1]), len(cols.ids) - cols.ip_start)
                segments = [(0, n0, 0), (cols.ip_start, cols.ip_start + n1, n0)]
            width = sum(b - a for a, b, _ in segments)
            ids = np.concatenate([cols.ids[a:b] for a, b, _ in segments])
            scores = self._ws.get("scores", (width, len(block)), self.dtype)
            self.score(block, cols, segments, scores)
            return visit(block, ids, scores)

        if threads <= 1 or len(starts) <= 1:
            return [work(i) for i in starts]
        return list(self._pool(threads).map(work, starts))

    def _pool(self, threads: int) -> ThreadPoolExecutor:
        """One pool per kernel, so workers (and their scratch buffers) are reused."""
        if self._executor is None or self._executor._max_workers != threads:
            self.close()
            self._executor = ThreadPoolExecutor(max_workers=threads)
        return self._executor

    def close(self) -> None:
        """Stop the worker threads, if any."""
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None

    def _const(self, value: float, n: int) -> np.ndarray:
        """A (1, n) row of a constant; broadcasting it is much faster than a scalar in minimum."""
        key = ("const", value)
        row = self._ws.__dict__.get(key)
        if row is None or row.shape[1] < n:
            row = np.full((1, max(n, BLOCK_ROWS)), value, dtype=self.dtype)
            self._ws.__dict__[key] = row
        return row[:, :n]

    def score(
        self,
        rows: np.ndarray,
        cols: _Columns,
        segments: list[tuple[int, int, int]],
        out: np.ndarray,
    ) -> None:
        """Score supporter segments [a, b) x rows, writing each at out[offset:, :]."""
        exp_capped = bool(self.exp_capped[rows].any())
        b = len(rows)
        if cols.shared:
            lin = self.rl_sh if exp_capped else self.rl_exp_sh
        else:
            lin = self.rl if exp_capped else self.rl_exp
        feats = {
            "shared": cols.shared,
            "lin": lin[rows].T,
            "avail": self.ra[rows].T,
            "cond": self.rc[rows].T,
            "exp": self.re[rows].T if exp_capped else None,
            "w_first": self.w_first[rows][None, :],
            "w_extra": self.w_extra[rows][None, :],
            "w_exp": self.w_exp[rows][None, :],
            "lang": self.r_lang[rows][None, :],
            "fmt": self.problem.recipients.formats[rows][None, :],
            "tags": self.r_tags[rows][None, :],
            "ip": bool(self.r_ip[rows].any()),
            "xyz": self.problem.recipients.xyz[rows].T,
            "one": self._const(1, b),
            "lang_all": self.r_lang[rows],
            "tags_or": np.bitwise_or.reduce(self.r_tags[rows]),
            "fmt_and": np.bitwise_and.reduce(self.problem.recipients.formats[rows]),
            "fmt_all": self.problem.recipients.formats[rows],
            "cap_slots": self._const(self.uw.max_slots * self.slot_units, b)
            if self.slots_capped[rows].any()
            else None,
            "cap_c": self._const(self.cap_c, b) if self.cond_capped[rows].any() else None,
            "cap_e": self._const(self.cap_e, b),
        }
        for a, e, o in segments:
            for t in range(a, e, TILE_COLS):
                self._tile(cols, feats, t, min(t + TILE_COLS, e), out, o + t - a)
        self._forbid(rows, cols, segments, out)

    def _tile(self, cols: _Columns, f: dict, a: int, b: int, out: np.ndarray, o: int) -> None:
        """Score supporters [a, b) against the block into out[o : o + b - a, :]."""
        ws, dt = self._ws, self.dtype
        c = b - a
        lang, fmt = cols.lang[a:b], cols.fmt[a:b]
        # Columns are sorted by language and format, so often no row of the block can talk
        # with any supporter of the tile: then every pair is infeasible, with nothing to score.
        talk = (f["lang_all"] & np.bitwise_or.reduce(lang)) != 0
        if not np.any(talk & ((f["fmt_all"] & np.bitwise_or.reduce(fmt)) != 0)):
            out[o : o + c] = INFEASIBLE
            return
        shape = (c, f["one"].shape[1])
        tot = ws.get("tot", shape, dt)
        cnt = ws.get("cnt", shape, dt)
        tmp = ws.get("tmp", shape, dt)
        ok = ws.get("ok", shape, np.bool_)
        chk = ws.get("chk", shape, np.bool_)
        exp = f["exp"]
        np.matmul((cols.lin if exp is not None else cols.lin_exp)[a:b], f["lin"], out=tot)
        np.matmul(cols.avail[a:b], f["avail"], out=cnt)
        np.greater(cnt, 0, out=ok)
        if self.uw.slot > 0:
            if f["cap_slots"] is not None:
                np.minimum(cnt, f["cap_slots"], out=cnt)
            tot += cnt
        np.matmul(cols.cond[a:b], f["cond"], out=cnt)
        if not f["shared"]:
            np.minimum(cnt, f["one"], out=tmp)
            tmp *= f["w_first"]
            tot += tmp
        if f["cap_c"] is not None:
            np.minimum(cnt, f["cap_c"], out=cnt)
        cnt *= f["w_extra"]
        tot += cnt
        if exp is not None:
            np.matmul(cols.exp[a:b], exp, out=cnt)
            np.minimum(cnt, f["cap_e"], out=cnt)
            cnt *= f["w_exp"]
            tot += cnt
        if np.any((f["lang_all"] & np.bitwise_and.reduce(lang)) == 0):
            u = ws.get("u", shape, cols.lang.dtype)
            np.bitwise_and(lang[:, None], f["lang"], out=u)
            np.not_equal(u, 0, out=chk)
            ok &= chk
        excl = cols.excl[a:b]
        if f["tags_or"] & np.bitwise_or.reduce(excl):
            t = ws.get("t", shape, cols.excl.dtype)
            np.bitwise_and(excl[:, None], f["tags"], out=t)
            np.equal(t, 0, out=chk)
            ok &= chk
        u8 = ws.get("u8", shape, np.uint8)
        np.bitwise_and(fmt[:, None], f["fmt"], out=u8)
        if not (f["fmt_and"] & np.bitwise_and.reduce(fmt)):
            np.not_equal(u8, 0, out=chk)
            ok &= chk
        if f["ip"] and b > cols.ip_start:
            self._distance(f, cols, max(a, cols.ip_start) - a, a, b, tot, ok, u8)
        tot *= ok
        np.subtract(tot, dt(1), out=out[o : o + c])

    def _distance(
        self,
        f: dict,
        cols: _Columns,
        lo: int,
        a: int,
        b: int,
        tot: np.ndarray,
        ok: np.ndarray,
        common: np.ndarray,
    ) -> None:
        """Closeness points and the in-person-only distance limit, on in-person supporters."""
        shape = (b - a - lo, tot.shape[1])
        d = self._ws.get("dots", shape, np.float64)
        # Unknown locations are NaN, so every comparison below is False for them.
        np.matmul(cols.xyz[a + lo : b], f["xyz"], out=d)
        hit = self._ws.get("hit", shape, np.bool_)
        keep = (f["fmt"] & IN_PERSON) != 0
        part = tot[lo:]
        for threshold, step in self.close_steps:
            np.greater_equal(d, threshold, out=hit)
            hit &= keep
            part += hit * step
        only = common[lo:] == IN_PERSON
        np.greater_equal(d, self.cos_limit, out=hit)
        only &= ~hit
        ok[lo:] &= ~only

    def _forbid(
        self,
        rows: np.ndarray,
        cols: _Columns,
        segments: list[tuple[int, int, int]],
        out: np.ndarray,
    ) -> None:
        """Mark forbidden pairs of these rows as INFEASIBLE."""
        f = self.problem.forbidden
        if len(f) == 0:
            return
        lo = np.searchsorted(f[:, 0], rows)
        hi = np.searchsorted(f[:, 0], rows, side="right")
        counts = hi - lo
        if not counts.any():
            return
        block_row = np.repeat(np.arange(len(rows)), counts)
        idx = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        col = cols.col_of[f[idx, 1]]
        for a, b, o in segments:
            hit = (col >= a) & (col < b)
            out[col[hit] - a + o, block_row[hit]] = INFEASIBLE
