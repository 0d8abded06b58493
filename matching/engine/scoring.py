"""Soft criteria: integer scores of pairs and their breakdown into criteria and facts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constraints import checks, cos_of_km, dots
from .model import (
    DAYS,
    EARTH_RADIUS_KM,
    FORMATS,
    IN_PERSON,
    PARTS_OF_DAY,
    PRIORITY_BIT,
    ROLE_BIT,
    Problem,
)

SCALE = 100
"""Scores are integers in hundredths of a point, so that sums are exact."""
MAX_UNITS = 1 << 23
"""No pair may score this much: float32 sums of integers stay exact below it."""

SCORED_CRITERIA: tuple[str, ...] = (
    "compatible",
    "condition",
    "experience",
    "caring_situation",
    "age",
    "slots",
    "preferred_format",
    "waiting",
    "closeness",
)


def units(points: float) -> int:
    """Convert points to integer score units, rounding half up."""
    return int(np.floor(points * SCALE + 0.5))


@dataclass(frozen=True)
class UnitWeights:
    """Weights in integer units, resolved per recipient where priorities apply."""

    compatible: int
    condition: np.ndarray
    extra_condition: np.ndarray
    max_extra_conditions: int
    experience: np.ndarray
    max_experiences: int
    caring_situation: np.ndarray
    same_age_band: np.ndarray
    adjacent_age_band: np.ndarray
    slot: int
    max_slots: int
    preferred_format: int
    waiting: np.ndarray
    closeness_dot: np.ndarray
    closeness_units: np.ndarray

    def max_score(self) -> int:
        """Return an upper bound on any pair's score."""

        def top(a: np.ndarray) -> int:
            return int(a.max()) if len(a) else 0

        return (
            self.compatible
            + top(self.condition)
            + self.max_extra_conditions * top(self.extra_condition)
            + self.max_experiences * top(self.experience)
            + top(self.caring_situation)
            + max(top(self.same_age_band), top(self.adjacent_age_band))
            + self.max_slots * self.slot
            + self.preferred_format
            + top(self.waiting)
            + top(self.closeness_units)
        )


def unit_weights(problem: Problem) -> UnitWeights:
    """Resolve the programme's weights into integer units for every recipient (cached)."""
    if "unit_weights" not in problem.cache:
        uw = _unit_weights(problem)
        if uw.max_score() >= MAX_UNITS:
            raise ValueError(f"weights too large: a pair could score {MAX_UNITS / SCALE:g} points")
        problem.cache["unit_weights"] = uw
    return problem.cache["unit_weights"]


def _unit_weights(problem: Problem) -> UnitWeights:
    w, r = problem.weights, problem.recipients

    def per_recipient(points: float, priority: str) -> np.ndarray:
        boosted = (r.priorities & PRIORITY_BIT[priority]) != 0
        mult = np.where(boosted, w.priority_multiplier, 1.0)
        return np.floor(points * mult * SCALE + 0.5).astype(np.int64)

    weeks = r.waiting_days.astype(np.float64) / 7.0
    waiting = np.floor(weeks * w.waiting_per_week * SCALE + 0.5).astype(np.int64)
    return UnitWeights(
        compatible=units(w.compatible),
        condition=per_recipient(w.condition, "condition"),
        extra_condition=per_recipient(w.extra_condition, "condition"),
        max_extra_conditions=w.max_extra_conditions,
        experience=per_recipient(w.experience, "treatment"),
        max_experiences=w.max_experiences,
        caring_situation=per_recipient(w.caring_situation, "caring_situation"),
        same_age_band=per_recipient(w.same_age_band, "age"),
        adjacent_age_band=per_recipient(w.adjacent_age_band, "age"),
        slot=units(w.slot),
        max_slots=w.max_slots,
        preferred_format=units(w.preferred_format),
        waiting=np.minimum(waiting, units(w.max_waiting)),
        closeness_dot=np.array([cos_of_km(km) for km, _ in w.closeness], dtype=np.float64),
        closeness_units=np.array([units(p) for _, p in w.closeness], dtype=np.int64),
    )


def unshared_bound(problem: Problem, uw: UnitWeights) -> np.ndarray:
    """Per recipient, the most any pair sharing no condition with them can score.

    Every criterion but the condition is bounded by the recipient's own side alone.
    """
    r = problem.recipients
    located = np.isfinite(r.xyz[:, 0]) & ((r.formats & IN_PERSON) != 0)
    close = int(uw.closeness_units.max()) if len(uw.closeness_units) else 0
    return (
        uw.compatible
        + uw.waiting
        + np.minimum(_popcount(r.experiences), uw.max_experiences) * uw.experience
        + np.where(r.role != 0, uw.caring_situation, 0)
        + np.where(r.age_band >= 0, np.maximum(uw.same_age_band, uw.adjacent_age_band), 0)
        + np.minimum(_popcount(r.availability), uw.max_slots) * uw.slot
        + np.where(r.preferred_format != 0, uw.preferred_format, 0)
        + np.where(located, close, 0)
    )


def _popcount(a: np.ndarray) -> np.ndarray:
    return np.bitwise_count(a).astype(np.int64)


def components(
    problem: Problem, uw: UnitWeights, ri: np.ndarray, si: np.ndarray
) -> dict[str, np.ndarray]:
    """Return each scored criterion's units for explicit pairs (assumed feasible)."""
    r, s = problem.recipients, problem.supporters
    n = len(ri)
    cc = _popcount(r.conditions[ri] & s.conditions[si])
    extra = np.clip(cc - 1, 0, uw.max_extra_conditions)
    cond = np.where(cc > 0, uw.condition[ri] + extra * uw.extra_condition[ri], 0)
    ec = np.minimum(_popcount(r.experiences[ri] & s.experiences[si]), uw.max_experiences)
    caring = np.where((r.role[ri] & s.roles[si]) != 0, uw.caring_situation[ri], 0)
    ra, sa = r.age_band[ri].astype(np.int64), s.age_band[si].astype(np.int64)
    known = (ra >= 0) & (sa >= 0)
    gap = np.abs(ra - sa)
    age = np.where(known & (gap == 0), uw.same_age_band[ri], 0)
    age = np.where(known & (gap == 1), uw.adjacent_age_band[ri], age)
    shared = np.minimum(_popcount(r.availability[ri] & s.availability[si]), uw.max_slots)
    pref = (r.preferred_format[ri] & s.formats[si]) != 0
    in_person = (r.formats[ri] & s.formats[si] & IN_PERSON) != 0
    d = dots(problem, ri, si)
    close = np.zeros(n, dtype=np.int64)
    # Bands run from nearest to furthest; the nearest band that contains the pair wins.
    for threshold, pts in zip(uw.closeness_dot[::-1], uw.closeness_units[::-1], strict=True):
        close = np.where(in_person & (d >= threshold), pts, close)
    return {
        "compatible": np.full(n, uw.compatible, dtype=np.int64),
        "condition": cond.astype(np.int64),
        "experience": ec * uw.experience[ri],
        "caring_situation": caring.astype(np.int64),
        "age": age.astype(np.int64),
        "slots": shared * uw.slot,
        "preferred_format": pref.astype(np.int64) * uw.preferred_format,
        "waiting": uw.waiting[ri],
        "closeness": close,
    }


def scores(problem: Problem, uw: UnitWeights, ri: np.ndarray, si: np.ndarray) -> np.ndarray:
    """Return the total units of explicit pairs (assumed feasible)."""
    total = np.zeros(len(ri), dtype=np.int64)
    for part in components(problem, uw, ri, si).values():
        total += part
    return total


Facts = dict[str, object]
"""What a criterion rests on, as codes and numbers (never display text), e.g.
{"conditions": ("type_2_diabetes",), "priority": True} or {"days": 41}."""


@dataclass(frozen=True)
class Criterion:
    """One line of a pair's explanation: a criterion code, its points and the facts behind it.

    Codes: "language" and "format" (required, 0 points), then the scored criteria in
    SCORED_CRITERIA order. The caller renders the facts as words, in the reader's language.
    """

    code: str
    units: int
    facts: Facts

    @property
    def points(self) -> float:
        return self.units / SCALE

    def as_dict(self) -> dict[str, object]:
        """Return {"code", "points", "facts"} with JSON-friendly values (lists, not tuples)."""
        facts = {k: list(v) if isinstance(v, tuple) else v for k, v in self.facts.items()}
        return {"code": self.code, "points": self.points, "facts": facts}


@dataclass(frozen=True)
class Breakdown:
    """Why a pair is (or is not) proposed: hard checks and scored criteria."""

    recipient_id: int
    supporter_id: int
    feasible: bool
    failed: tuple[str, ...]
    items: tuple[Criterion, ...]

    @property
    def units(self) -> int:
        return sum(c.units for c in self.items)

    @property
    def score(self) -> float:
        return self.units / SCALE

    def as_dicts(self) -> list[dict[str, object]]:
        """Return every line as {"code", "points", "facts"} (see Criterion.as_dict)."""
        return [c.as_dict() for c in self.items]


def _bits(mask: int, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for i, n in enumerate(names) if mask >> i & 1)


def _part_of_day(mask: int) -> str | None:
    """The part of the day every slot in the mask falls in, if they share one."""
    parts = {i % len(PARTS_OF_DAY) for i in range(len(DAYS) * len(PARTS_OF_DAY)) if mask >> i & 1}
    return PARTS_OF_DAY[parts.pop()] if len(parts) == 1 else None


def breakdown(problem: Problem, recipient_id: int, supporter_id: int) -> Breakdown:
    """Explain one pair: its failed hard constraints, or every criterion's points and facts."""
    i, j = problem.recipient_index(recipient_id), problem.supporter_index(supporter_id)
    ri, si = np.array([i]), np.array([j])
    passed = checks(problem, ri, si)
    failed = tuple(name for name, ok in passed.items() if not ok[0])
    if failed:
        return Breakdown(recipient_id, supporter_id, False, failed, ())
    uw = unit_weights(problem)
    parts = {k: int(v[0]) for k, v in components(problem, uw, ri, si).items()}
    return Breakdown(recipient_id, supporter_id, True, (), tuple(_items(problem, i, j, parts)))


def _items(problem: Problem, i: int, j: int, parts: dict[str, int]) -> list[Criterion]:
    r, s, vocab = problem.recipients, problem.supporters, problem.vocabulary
    prio = int(r.priorities[i])

    def priority(name: str) -> bool:
        return bool(prio & PRIORITY_BIT[name])

    common = int(r.formats[i] & s.formats[j])
    km = round(_km(problem, i, j), 1)
    fmt: Facts = {"formats": _bits(common, FORMATS)}
    if common == IN_PERSON:
        fmt.update(km=km, limit_km=problem.rules.max_distance_km)
    items = [
        Criterion(
            "language",
            0,
            {"languages": vocab.decode("languages", int(r.languages[i] & s.languages[j]))},
        ),
        Criterion("format", 0, fmt),
    ]
    ra, sa = int(r.age_band[i]), int(s.age_band[j])
    shared = int(r.availability[i] & s.availability[j])
    facts: dict[str, Facts] = {
        "compatible": {},
        "condition": {
            "conditions": vocab.decode("conditions", int(r.conditions[i] & s.conditions[j])),
            "priority": priority("condition"),
        },
        "experience": {
            "experiences": vocab.decode("experiences", int(r.experiences[i] & s.experiences[j])),
            "priority": priority("treatment"),
        },
        "caring_situation": {
            "role": next(iter(_bits(int(r.role[i] & s.roles[j]), tuple(ROLE_BIT))), None),
            "priority": priority("caring_situation"),
        },
        "age": {"decades": tuple(sorted((ra * 10, sa * 10))), "priority": priority("age")},
        "slots": {"count": shared.bit_count(), "part_of_day": _part_of_day(shared)},
        "preferred_format": {
            "format": next(iter(_bits(int(r.preferred_format[i]), FORMATS)), None)
        },
        "waiting": {"days": int(r.waiting_days[i])},
        "closeness": {"km": km},
    }
    items += [
        Criterion(code, parts[code], facts[code]) for code in SCORED_CRITERIA if parts[code] > 0
    ]
    return items


def _km(problem: Problem, i: int, j: int) -> float:
    """Return the great-circle distance of a pair in km (NaN if a location is unknown)."""
    d = float(np.dot(problem.recipients.xyz[i], problem.supporters.xyz[j]))
    return float(np.arccos(np.clip(d, -1.0, 1.0)) * EARTH_RADIUS_KM)
