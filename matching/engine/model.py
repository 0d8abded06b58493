"""Input model of the matching engine: people, weights, rules and the encoded problem."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

EARTH_RADIUS_KM = 6371.0088

FORMATS: tuple[str, ...] = ("phone", "video", "in_person", "messaging")
FORMAT_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(FORMATS)}
IN_PERSON = FORMAT_BIT["in_person"]

DAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
PARTS_OF_DAY: tuple[str, ...] = ("morning", "afternoon", "evening")
N_SLOTS = len(DAYS) * len(PARTS_OF_DAY)
ALL_SLOTS = (1 << N_SLOTS) - 1

ROLES: tuple[str, ...] = ("patient", "caregiver")
ROLE_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(ROLES)}

PRIORITIES: tuple[str, ...] = ("condition", "treatment", "caring_situation", "age")
PRIORITY_BIT: dict[str, int] = {name: 1 << i for i, name in enumerate(PRIORITIES)}

AGE_BAND_YEARS = 10
N_AGE_BANDS = 13

MAX_CODES = 64
"""Each coded field (languages, conditions, experiences, tags) is a 64-bit mask."""
MAX_PEOPLE = (1 << 20) - 1
"""Recipients and supporters per run each (pairs are packed into 64-bit keys)."""


def slot(day: int | str, part: int | str) -> int:
    """Return the availability bit for a weekday (0 = Monday) and part of day."""
    d = DAYS.index(day) if isinstance(day, str) else day
    p = PARTS_OF_DAY.index(part) if isinstance(part, str) else part
    if not (0 <= d < len(DAYS) and 0 <= p < len(PARTS_OF_DAY)):
        raise ValueError(f"no such slot: day={day!r} part={part!r}")
    return 1 << (d * len(PARTS_OF_DAY) + p)


def slots(*pairs: tuple[int | str, int | str]) -> int:
    """Return the availability mask covering every (day, part) pair given."""
    mask = 0
    for day, part in pairs:
        mask |= slot(day, part)
    return mask


def age_band(age: int | None) -> int:
    """Return the decade band of an age, or -1 when unknown."""
    if age is None or age < 0:
        return -1
    return min(int(age) // AGE_BAND_YEARS, N_AGE_BANDS - 1)


@dataclass(frozen=True)
class Recipient:
    """A patient or caregiver waiting for a peer supporter."""

    id: int
    languages: frozenset[str]
    formats: frozenset[str]
    availability: int
    conditions: frozenset[str] = frozenset()
    experiences: frozenset[str] = frozenset()
    role: str | None = None
    age: int | None = None
    location: tuple[float, float] | None = None
    waiting_days: int = 0
    tags: frozenset[str] = frozenset()
    priorities: frozenset[str] = frozenset()
    preferred_format: str | None = None


@dataclass(frozen=True)
class Supporter:
    """A trained peer supporter with a number of free places."""

    id: int
    languages: frozenset[str]
    formats: frozenset[str]
    availability: int
    capacity: int = 1
    conditions: frozenset[str] = frozenset()
    experiences: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    age: int | None = None
    location: tuple[float, float] | None = None
    will_not_support: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Weights:
    """Per-programme points of every soft criterion (all non-negative)."""

    compatible: float = 10.0
    condition: float = 30.0
    extra_condition: float = 5.0
    max_extra_conditions: int = 2
    experience: float = 6.0
    max_experiences: int = 3
    caring_situation: float = 10.0
    same_age_band: float = 10.0
    adjacent_age_band: float = 4.0
    slot: float = 4.0
    max_slots: int = 3
    preferred_format: float = 5.0
    priority_multiplier: float = 2.0
    waiting_per_week: float = 1.5
    max_waiting: float = 20.0
    closeness: tuple[tuple[float, float], ...] = ((5.0, 8.0), (15.0, 4.0), (30.0, 2.0))

    def __post_init__(self) -> None:
        numbers = {k: v for k, v in self.__dict__.items() if k != "closeness"}
        for name, value in numbers.items():
            if value < 0 or not math.isfinite(value):
                raise ValueError(f"weight {name} must be a finite number >= 0")
        kms = [km for km, _ in self.closeness]
        pts = [p for _, p in self.closeness]
        if kms != sorted(kms) or pts != sorted(pts, reverse=True) or min(pts, default=0) < 0:
            raise ValueError("closeness bands must be sorted by km with non-increasing points")


@dataclass(frozen=True)
class Rules:
    """Hard settings of a programme."""

    max_distance_km: float = 25.0


@dataclass(frozen=True)
class Vocabulary:
    """Bit positions of coded values, per field."""

    languages: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    experiences: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("languages", "conditions", "experiences", "tags"):
            if len(getattr(self, name)) > MAX_CODES:
                raise ValueError(f"at most {MAX_CODES} distinct {name} are supported")

    def mask(self, fieldname: str, codes: Iterable[str]) -> int:
        """Encode codes of one field as a bit mask."""
        index = {c: i for i, c in enumerate(getattr(self, fieldname))}
        mask = 0
        for code in codes:
            mask |= 1 << index[code]
        return mask

    def decode(self, fieldname: str, mask: int) -> tuple[str, ...]:
        """Return the codes of the bits set in a mask."""
        codes = getattr(self, fieldname)
        return tuple(c for i, c in enumerate(codes) if mask >> i & 1)


@dataclass(frozen=True)
class RecipientArrays:
    """Recipients as parallel numpy arrays (the engine's working form)."""

    ids: np.ndarray
    languages: np.ndarray
    formats: np.ndarray
    availability: np.ndarray
    conditions: np.ndarray
    experiences: np.ndarray
    role: np.ndarray
    age_band: np.ndarray
    xyz: np.ndarray
    waiting_days: np.ndarray
    tags: np.ndarray
    priorities: np.ndarray
    preferred_format: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class SupporterArrays:
    """Supporters as parallel numpy arrays (the engine's working form)."""

    ids: np.ndarray
    languages: np.ndarray
    formats: np.ndarray
    availability: np.ndarray
    conditions: np.ndarray
    experiences: np.ndarray
    roles: np.ndarray
    age_band: np.ndarray
    xyz: np.ndarray
    capacity: np.ndarray
    excludes: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


_RECIPIENT_DTYPES = {
    "ids": np.int64,
    "languages": np.uint64,
    "formats": np.uint8,
    "availability": np.uint32,
    "conditions": np.uint64,
    "experiences": np.uint64,
    "role": np.uint8,
    "age_band": np.int16,
    "xyz": np.float64,
    "waiting_days": np.int32,
    "tags": np.uint64,
    "priorities": np.uint8,
    "preferred_format": np.uint8,
}
_SUPPORTER_DTYPES = {
    "ids": np.int64,
    "languages": np.uint64,
    "formats": np.uint8,
    "availability": np.uint32,
    "conditions": np.uint64,
    "experiences": np.uint64,
    "roles": np.uint8,
    "age_band": np.int16,
    "xyz": np.float64,
    "capacity": np.int32,
    "excludes": np.uint64,
}


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Map latitude/longitude in degrees to points on the unit sphere (NaN stays NaN)."""
    la = np.radians(np.asarray(lat, dtype=np.float64))
    lo = np.radians(np.asarray(lon, dtype=np.float64))
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=1)


def _column(values: object, dtype: type) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values).astype(dtype, copy=False))


def recipient_arrays(**columns: object) -> RecipientArrays:
    """Build recipient arrays from columns, given `lat`/`lon` (NaN = unknown) instead of xyz."""
    lat, lon = columns.pop("lat"), columns.pop("lon")
    columns["xyz"] = unit_vectors(lat, lon)  # type: ignore[arg-type]
    return RecipientArrays(**{k: _column(columns[k], t) for k, t in _RECIPIENT_DTYPES.items()})


def supporter_arrays(**columns: object) -> SupporterArrays:
    """Build supporter arrays from columns, given `lat`/`lon` (NaN = unknown) instead of xyz."""
    lat, lon = columns.pop("lat"), columns.pop("lon")
    columns["xyz"] = unit_vectors(lat, lon)  # type: ignore[arg-type]
    return SupporterArrays(**{k: _column(columns[k], t) for k, t in _SUPPORTER_DTYPES.items()})


def _take(
    arrays: RecipientArrays | SupporterArrays, order: np.ndarray
) -> RecipientArrays | SupporterArrays:
    return type(arrays)(**{k: np.ascontiguousarray(v[order]) for k, v in arrays.__dict__.items()})


@dataclass(frozen=True)
class Problem:
    """A matching problem in canonical form: people sorted by id, ids mapped to indices."""

    recipients: RecipientArrays
    supporters: SupporterArrays
    weights: Weights
    rules: Rules
    vocabulary: Vocabulary
    forbidden: np.ndarray
    """Forbidden (recipient index, supporter index) pairs, shape (F, 2), sorted, unique."""
    pinned: tuple[tuple[int, int], ...]
    """Pinned (recipient id, supporter id) pairs, in the order the coordinator gave."""
    cache: dict = field(default_factory=dict, repr=False, compare=False)
    """Derived data (such as weights in units), computed once per problem."""

    @property
    def n_recipients(self) -> int:
        return len(self.recipients)

    @property
    def n_supporters(self) -> int:
        return len(self.supporters)

    def recipient_index(self, recipient_id: int) -> int:
        """Return the row of a recipient id, or raise KeyError."""
        return _index_of(self.recipients.ids, recipient_id, "recipient")

    def supporter_index(self, supporter_id: int) -> int:
        """Return the row of a supporter id, or raise KeyError."""
        return _index_of(self.supporters.ids, supporter_id, "supporter")

    @classmethod
    def from_arrays(
        cls,
        recipients: RecipientArrays,
        supporters: SupporterArrays,
        *,
        weights: Weights | None = None,
        rules: Rules | None = None,
        vocabulary: Vocabulary | None = None,
        forbidden: Iterable[tuple[int, int]] = (),
        pinned: Iterable[tuple[int, int]] = (),
    ) -> Problem:
        """Canonicalise arrays (sort by id, validate) into a problem."""
        for name, arrays in (("recipient", recipients), ("supporter", supporters)):
            ids = arrays.ids
            if len(ids) > MAX_PEOPLE:
                raise ValueError(f"at most {MAX_PEOPLE} {name}s per run are supported")
            if len(np.unique(ids)) != len(ids):
                raise ValueError(f"{name} ids must be unique")
            if any(len(v) != len(ids) for v in arrays.__dict__.values()):
                raise ValueError(f"{name} arrays must all have the same length")
        if np.any(supporters.capacity < 0):
            raise ValueError("supporter capacity must be >= 0")
        recipients = _take(recipients, np.argsort(recipients.ids, kind="stable"))
        supporters = _take(supporters, np.argsort(supporters.ids, kind="stable"))
        return cls(
            recipients=recipients,
            supporters=supporters,
            weights=weights or Weights(),
            rules=rules or Rules(),
            vocabulary=vocabulary or Vocabulary(),
            forbidden=_forbidden_indices(recipients.ids, supporters.ids, forbidden),
            pinned=tuple((int(r), int(s)) for r, s in pinned),
        )


def _index_of(ids: np.ndarray, key: int, what: str) -> int:
    i = int(np.searchsorted(ids, key))
    if i >= len(ids) or ids[i] != key:
        raise KeyError(f"unknown {what} id {key}")
    return i


def _forbidden_indices(
    recipient_ids: np.ndarray, supporter_ids: np.ndarray, pairs: Iterable[tuple[int, int]]
) -> np.ndarray:
    """Map forbidden id pairs to sorted unique index pairs, ignoring people not in this run."""
    arr = np.asarray(list(pairs), dtype=np.int64).reshape(-1, 2)
    ri = np.searchsorted(recipient_ids, arr[:, 0])
    si = np.searchsorted(supporter_ids, arr[:, 1])
    ok = (ri < len(recipient_ids)) & (si < len(supporter_ids))
    ri, si, arr = ri[ok], si[ok], arr[ok]
    ok = (recipient_ids[ri] == arr[:, 0]) & (supporter_ids[si] == arr[:, 1])
    out = np.stack([ri[ok], si[ok]], axis=1).astype(np.int64)
    return np.unique(out, axis=0) if len(out) else out.reshape(0, 2)


def build_problem(
    recipients: Sequence[Recipient],
    supporters: Sequence[Supporter],
    *,
    weights: Weights | None = None,
    rules: Rules | None = None,
    forbidden: Iterable[tuple[int, int]] = (),
    pinned: Iterable[tuple[int, int]] = (),
) -> Problem:
    """Encode people given as dataclasses into a problem (codes become bits, sorted by code)."""
    vocab = Vocabulary(
        languages=_codes(p.languages for p in (*recipients, *supporters)),
        conditions=_codes(p.conditions for p in (*recipients, *supporters)),
        experiences=_codes(p.experiences for p in (*recipients, *supporters)),
        tags=_codes([*(r.tags for r in recipients), *(s.will_not_support for s in supporters)]),
    )
    for p in (*recipients, *supporters):
        unknown = set(p.formats) - set(FORMATS)
        if unknown:
            raise ValueError(f"unknown formats {sorted(unknown)} for id {p.id}")
    r = recipient_arrays(
        ids=[p.id for p in recipients],
        languages=_masks(vocab, "languages", (p.languages for p in recipients)),
        formats=[_format_mask(p.formats) for p in recipients],
        availability=[p.availability & ALL_SLOTS for p in recipients],
        conditions=_masks(vocab, "conditions", (p.conditions for p in recipients)),
        experiences=_masks(vocab, "experiences", (p.experiences for p in recipients)),
        role=[ROLE_BIT.get(p.role or "", 0) for p in recipients],
        age_band=[age_band(p.age) for p in recipients],
        lat=[p.location[0] if p.location else np.nan for p in recipients],
        lon=[p.location[1] if p.location else np.nan for p in recipients],
        waiting_days=[max(0, p.waiting_days) for p in recipients],
        tags=_masks(vocab, "tags", (p.tags for p in recipients)),
        priorities=[sum(PRIORITY_BIT.get(x, 0) for x in set(p.priorities)) for p in recipients],
        preferred_format=[FORMAT_BIT.get(p.preferred_format or "", 0) for p in recipients],
    )
    s = supporter_arrays(
        ids=[p.id for p in supporters],
        languages=_masks(vocab, "languages", (p.languages for p in supporters)),
        formats=[_format_mask(p.formats) for p in supporters],
        availability=[p.availability & ALL_SLOTS for p in supporters],
        conditions=_masks(vocab, "conditions", (p.conditions for p in supporters)),
        experiences=_masks(vocab, "experiences", (p.experiences for p in supporters)),
        roles=[sum(ROLE_BIT.get(x, 0) for x in set(p.roles)) for p in supporters],
        age_band=[age_band(p.age) for p in supporters],
        lat=[p.location[0] if p.location else np.nan for p in supporters],
        lon=[p.location[1] if p.location else np.nan for p in supporters],
        capacity=[p.capacity for p in supporters],
        excludes=_masks(vocab, "tags", (p.will_not_support for p in supporters)),
    )
    return Problem.from_arrays(
        r, s, weights=weights, rules=rules, vocabulary=vocab, forbidden=forbidden, pinned=pinned
    )


def _codes(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    return tuple(sorted({c for g in groups for c in g}))


def _masks(vocab: Vocabulary, fieldname: str, groups: Iterable[Iterable[str]]) -> np.ndarray:
    return np.array([vocab.mask(fieldname, g) for g in groups], dtype=np.uint64)


def _format_mask(formats: Iterable[str]) -> int:
    return sum(FORMAT_BIT[f] for f in set(formats))
