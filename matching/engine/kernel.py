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
from .model import FORMATS, IN_PERSON, N_AGE_BANDS, N_SLOTS, Problem
from .scoring import UnitWeights

CHUNK = 64
"""Score rows are padded to a multiple of CHUNK columns (see candidates.select_top)."""
BLOCK_ROWS = 64
TILE_COLS = 2048
INFEASIBLE = -1.0

Visit = Callable[[np.ndarray, np.ndarray, np.ndarray], object]


def bit_matrix(masks: np.ndarray, nbits: int, dtype: type = np.float32) -> np.ndarray:
    """Expand integer bit masks into a 0/1 matrix of shape (len(masks), nbits)."""
    shifts = np.arange(nbits, dtype=np.uint64)
    bits = (masks.astype(np.uint64)[:, None] >> shifts[None, :]) & np.uint64(1)
    return np.ascontiguousarray(bits.astype(dtype))


def _nbits(*masks: np.ndarray) -> int:
    top = 0
    for m in masks:
        if len(m):
            top = max(top, int(np.bitwise_or.reduce(m.astype(np.uint64))).bit_length())
    return max(top, 1)


def _narrow(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Store two mask arrays in the narrowest unsigned type that holds their bits."""
    bits = _nbits(a, b)
    dt = (
        next(t for t, n in ((np.uint8, 8), (np.uint16, 16), (np.uint32, 32)) if bits <= n)
        if bits <= 32
        else np.uint64
    )
    return a.astype(dt), b.astype(dt)


def _one_hot(values: np.ndarray, n: int, dtype: type) -> np.ndarray:
    out = np.zeros((len(values), n), dtype=dtype)
    known = values >= 0
    out[np.flatnonzero(known), values[known].astype(np.int64)] = 1
    return out


@dataclass
class _Columns:
    """Supporter-side matrices for one column order, padded to whole chunks."""

    ids: np.ndarray
    width: int
    ip_start: int
    lin: np.ndarray
    lin_nocap: np.ndarray
    avail: np.ndarray
    cond: np.ndarray
    exp: np.ndarray
    xyz: np.ndarray
    lang: np.ndarray
    fmt: np.ndarray
    excl: np.ndarray
    col_of: np.ndarray


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
        # float32 products and sums of integers are exact below 2**24.
        self.dtype = dt = np.float32 if uw.max_score() < 2**23 else np.float64
        nc = _nbits(r.conditions, s.conditions)
        ne = _nbits(r.experiences, s.experiences)
        self.ra = bit_matrix(r.availability, N_SLOTS, dt)
        self.sa = bit_matrix(s.availability, N_SLOTS, dt)
        self.rc = bit_matrix(r.conditions, nc, dt)
        self.sc = bit_matrix(s.conditions, nc, dt)
        self.re = bit_matrix(r.experiences, ne, dt)
        self.se = bit_matrix(s.experiences, ne, dt)
        rl, sl = self._linear_features()
        self.rl, self.sl = rl, sl
        # Where no cap can bind, extra conditions and experiences are linear too.
        self.rl_nocap = np.ascontiguousarray(
            np.hstack(
                [rl, self.rc * uw.extra_condition[:, None], self.re * uw.experience[:, None]]
            ),
            dtype=dt,
        )
        self.sl_nocap = np.ascontiguousarray(np.hstack([sl, self.sc, self.se]), dtype=dt)
        self.cap_c = 1 + uw.max_extra_conditions
        self.cap_e = uw.max_experiences
        self.row_capped = (np.bitwise_count(r.conditions) > self.cap_c) | (
            np.bitwise_count(r.experiences) > self.cap_e
        )
        self.slots_capped = np.bitwise_count(r.availability) > uw.max_slots
        self.w_first = (uw.condition - uw.extra_condition).astype(dt)
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

    def _linear_features(self) -> tuple[np.ndarray, np.ndarray]:
        """Build features whose dot product is caring situation + age + format + constants."""
        p, uw, dt = self.problem, self.uw, self.dtype
        r, s = p.recipients, p.supporters
        age_r = _one_hot(r.age_band, N_AGE_BANDS, dt)
        age_s = _one_hot(s.age_band, N_AGE_BANDS, dt)
        near_s = np.zeros_like(age_s)
        near_s[:, 1:] += age_s[:, :-1]
        near_s[:, :-1] += age_s[:, 1:]
        rl = np.hstack(
            [
                bit_matrix(r.role, 2, dt) * uw.caring_situation[:, None],
                age_r * uw.same_age_band[:, None],
                age_r * uw.adjacent_age_band[:, None],
                bit_matrix(r.preferred_format, len(FORMATS), dt) * uw.preferred_format,
                (uw.compatible + uw.waiting).astype(dt)[:, None],
            ]
        )
        sl = np.hstack(
            [
                bit_matrix(s.roles, 2, dt),
                age_s,
                near_s,
                bit_matrix(s.formats, len(FORMATS), dt),
                np.ones((len(s.ids), 1), dt),
            ]
        )
        return np.ascontiguousarray(rl, dtype=dt), np.ascontiguousarray(sl, dtype=dt)

    def columns(self, supporters: np.ndarray) -> _Columns:
        """Prepare supporter matrices for the given supporters, in-person ones last."""
        s = self.problem.supporters
        sup = np.asarray(supporters, dtype=np.int64)
        ip = (s.formats[sup] & IN_PERSON) != 0
        ids = np.concatenate([np.sort(sup[~ip]), np.sort(sup[ip])])
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
            lin_nocap=padded(self.sl_nocap),
            avail=padded(self.sa),
            cond=padded(self.sc),
            exp=padded(self.se),
            xyz=padded(s.xyz, np.nan),
            lang=padded(self.s_lang),
            fmt=padded(s.formats),
            excl=padded(self.s_excl),
            col_of=col_of,
        )

    def scan(
        self,
        rows: np.ndarray,
        cols: _Columns,
        visit: Visit,
        *,
        threads: int = 1,
    ) -> list[object]:
        """Score rows x cols block by block and return visit(block_rows, cols.ids, scores).

        Scores are padded to cols.width columns, INFEASIBLE where a hard constraint fails.
        Rows are scanned in-person first, then by index; results come in that fixed order.
        """
        rows = np.asarray(rows, dtype=np.int64)
        order = np.lexsort((rows, ~self.r_ip[rows]))
        rows = rows[order]
        blocks = [rows[i : i + BLOCK_ROWS] for i in range(0, len(rows), BLOCK_ROWS)]
        if len(cols.ids) == 0:
            blocks = []

        def work(block: np.ndarray) -> object:
            scores = self._ws.get("scores", (len(block), cols.width), self.dtype)
            self.score(block, cols, scores)
            return visit(block, cols.ids, scores)

        if threads <= 1 or len(blocks) <= 1:
            return [work(b) for b in blocks]
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(work, blocks, chunksize=4))

    def score(self, rows: np.ndarray, cols: _Columns, out: np.ndarray) -> None:
        """Write the scores of rows x all columns into out (shape len(rows) x cols.width)."""
        capped = bool(self.row_capped[rows].any())
        feats = {
            "lin": (self.rl if capped else self.rl_nocap)[rows],
            "avail": self.ra[rows],
            "cond": self.rc[rows],
            "exp": self.re[rows] if capped else None,
            "w_first": self.w_first[rows][:, None],
            "w_extra": self.w_extra[rows][:, None] if capped else None,
            "w_exp": self.w_exp[rows][:, None] if capped else None,
            "lang": self.r_lang[rows][:, None],
            "fmt": self.problem.recipients.formats[rows][:, None],
            "tags": self.r_tags[rows][:, None],
            "ip": bool(self.r_ip[rows].any()),
            "xyz": self.problem.recipients.xyz[rows],
            "slots_capped": bool(self.slots_capped[rows].any()),
        }
        for a in range(0, cols.width, TILE_COLS):
            self._tile(rows, cols, feats, a, min(a + TILE_COLS, cols.width), out)
        self._forbid(rows, cols, out)

    def _tile(
        self, rows: np.ndarray, cols: _Columns, f: dict, a: int, b: int, out: np.ndarray
    ) -> None:
        """Score one tile of columns [a, b) into out[:, a:b]."""
        ws, dt, uw = self._ws, self.dtype, self.uw
        shape = (len(rows), b - a)
        tot = ws.get("tot", shape, dt)
        cnt = ws.get("cnt", shape, dt)
        tmp = ws.get("tmp", shape, dt)
        ok = ws.get("ok", shape, np.bool_)
        chk = ws.get("chk", shape, np.bool_)
        capped = f["exp"] is not None
        np.matmul(f["lin"], (cols.lin if capped else cols.lin_nocap)[a:b].T, out=tot)
        np.matmul(f["avail"], cols.avail[a:b].T, out=cnt)
        np.greater(cnt, 0, out=ok)
        if f["slots_capped"]:
            np.minimum(cnt, dt(uw.max_slots), out=cnt)
        cnt *= dt(uw.slot)
        tot += cnt
        np.matmul(f["cond"], cols.cond[a:b].T, out=cnt)
        np.minimum(cnt, dt(1), out=tmp)
        tmp *= f["w_first"]
        tot += tmp
        if capped:
            np.minimum(cnt, dt(self.cap_c), out=cnt)
            cnt *= f["w_extra"]
            tot += cnt
            np.matmul(f["exp"], cols.exp[a:b].T, out=cnt)
            np.minimum(cnt, dt(self.cap_e), out=cnt)
            cnt *= f["w_exp"]
            tot += cnt
        u = ws.get("u", shape, cols.lang.dtype)
        np.bitwise_and(f["lang"], cols.lang[None, a:b], out=u)
        np.not_equal(u, 0, out=chk)
        ok &= chk
        u8 = ws.get("u8", shape, np.uint8)
        np.bitwise_and(f["fmt"], cols.fmt[None, a:b], out=u8)
        np.not_equal(u8, 0, out=chk)
        ok &= chk
        t = ws.get("t", shape, cols.excl.dtype)
        np.bitwise_and(f["tags"], cols.excl[None, a:b], out=t)
        np.equal(t, 0, out=chk)
        ok &= chk
        if f["ip"] and b > cols.ip_start:
            self._distance(f, cols, max(a, cols.ip_start) - a, a, b, tot, ok, u8)
        tot += dt(1)
        tot *= ok
        np.subtract(tot, dt(1), out=out[:, a:b])

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
        """Closeness points and the in-person-only distance limit, on in-person columns."""
        shape = (tot.shape[0], b - a - lo)
        d = self._ws.get("dots", shape, np.float64)
        # Unknown locations are NaN, so every comparison below is False for them.
        np.matmul(f["xyz"], cols.xyz[a + lo : b].T, out=d)
        hit = self._ws.get("hit", shape, np.bool_)
        keep = (f["fmt"] & IN_PERSON) != 0
        part = tot[:, lo:]
        for threshold, step in self.close_steps:
            np.greater_equal(d, threshold, out=hit)
            hit &= keep
            part += hit * step
        only = common[:, lo:] == IN_PERSON
        np.greater_equal(d, self.cos_limit, out=hit)
        only &= ~hit
        ok[:, lo:] &= ~only

    def _forbid(self, rows: np.ndarray, cols: _Columns, out: np.ndarray) -> None:
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
        hit = col >= 0
        out[block_row[hit], col[hit]] = INFEASIBLE
