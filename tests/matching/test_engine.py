"""Property and example tests of the pure-Python matching engine (no database needed)."""

from __future__ import annotations

import math
import os
import random
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import (
    FORMATS,
    MatchResult,
    Problem,
    Recipient,
    Rules,
    SolverConfig,
    Supporter,
    Weights,
    breakdown,
    build_problem,
    match,
    slots,
)
from matching.engine import candidates as candidates_module
from matching.engine import kernel as kernel_module
from matching.engine.candidates import generate
from matching.engine.constraints import feasible
from matching.engine.exact import brute_force_total, exact, full_edges
from matching.engine.explain import explain_unmatched
from matching.engine.greedy import greedy, greedy_edges
from matching.engine.kernel import Kernel
from matching.engine.scoring import components, unit_weights

LANGUAGES = ("en", "pl", "ur")
CONDITIONS = ("asthma", "copd", "lupus", "ms")
EXPERIENCES = ("chemo", "surgery", "bereavement")
TAGS = ("self harm", "substance use")
EARTH_KM = 6371.0088

# Tiny pools and many rounds: k=1 forces the pricing loop to do the real work.
STRICT = SolverConfig(
    k=1, per_supporter=1, flow_k=1, add_per_row=1, slack=0, keep=0, max_rounds=1000, workers=1
)
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _subset(items: tuple[str, ...], min_size: int = 0) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(items), min_size=min_size, max_size=len(items))


_availability = st.sets(st.integers(0, 20), max_size=5).map(lambda s: sum(1 << b for b in s))
_location = st.one_of(
    st.none(),
    st.tuples(st.integers(0, 40), st.integers(0, 40)).map(
        lambda p: (51.8 + p[0] * 0.01, -0.3 + p[1] * 0.015)
    ),
)
_age = st.one_of(st.none(), st.integers(18, 90))


@st.composite
def _recipient(draw: st.DrawFn, rid: int) -> Recipient:
    formats = draw(_subset(FORMATS, 1))
    return Recipient(
        id=rid,
        languages=draw(_subset(LANGUAGES, 1)),
        formats=formats,
        availability=draw(_availability),
        conditions=draw(_subset(CONDITIONS)),
        experiences=draw(_subset(EXPERIENCES)),
        role=draw(st.sampled_from([None, "patient", "caregiver"])),
        age=draw(_age),
        location=draw(_location),
        waiting_days=draw(st.integers(0, 300)),
        tags=draw(_subset(TAGS)) if draw(st.booleans()) else frozenset(),
        priorities=draw(_subset(("condition", "treatment", "caring_situation", "age"))),
        preferred_format=draw(st.one_of(st.none(), st.sampled_from(sorted(formats)))),
    )


@st.composite
def _supporter(draw: st.DrawFn, sid: int) -> Supporter:
    return Supporter(
        id=sid,
        languages=draw(_subset(LANGUAGES, 1)),
        formats=draw(_subset(FORMATS, 1)),
        availability=draw(_availability),
        capacity=draw(st.integers(0, 3)),
        conditions=draw(_subset(CONDITIONS)),
        experiences=draw(_subset(EXPERIENCES)),
        roles=draw(_subset(("patient", "caregiver"))),
        age=draw(_age),
        location=draw(_location),
        will_not_support=draw(_subset(TAGS)) if draw(st.booleans()) else frozenset(),
    )


_points = st.sampled_from([0.0, 1.0, 2.5, 10.0, 30.0])
_weights = st.one_of(
    st.just(Weights()),
    st.builds(
        Weights,
        compatible=_points,
        condition=_points,
        extra_condition=_points,
        max_extra_conditions=st.integers(0, 3),
        experience=_points,
        max_experiences=st.integers(0, 3),
        caring_situation=_points,
        same_age_band=_points,
        adjacent_age_band=_points,
        slot=_points,
        max_slots=st.integers(0, 4),
        preferred_format=_points,
        priority_multiplier=st.sampled_from([1.0, 1.5, 3.0]),
        waiting_per_week=st.sampled_from([0.0, 0.7, 1.5]),
        max_waiting=_points,
        closeness=st.sampled_from([(), ((5.0, 8.0),), ((5.0, 8.0), (15.0, 3.5), (30.0, 1.0))]),
    ),
)


@st.composite
def scenarios(draw: st.DrawFn, max_recipients: int = 12, max_supporters: int = 8) -> dict:
    """People, rules, forbidden and pinned pairs of a small random programme."""
    n = draw(st.integers(0, max_recipients))
    m = draw(st.integers(0, max_supporters))
    rids = draw(st.lists(st.integers(1, 10_000), min_size=n, max_size=n, unique=True))
    sids = draw(st.lists(st.integers(1, 10_000), min_size=m, max_size=m, unique=True))
    pairs = st.tuples(st.sampled_from(rids), st.sampled_from(sids)) if n and m else None
    return {
        "recipients": [draw(_recipient(i)) for i in rids],
        "supporters": [draw(_supporter(j)) for j in sids],
        "forbidden": draw(st.lists(pairs, max_size=4)) if pairs is not None else [],
        "pinned": draw(st.lists(pairs, max_size=2)) if pairs is not None else [],
        "weights": draw(_weights),
        "rules": Rules(max_distance_km=draw(st.sampled_from([3.0, 25.0, 60.0]))),
    }


def _problem(s: dict) -> Problem:
    return build_problem(
        s["recipients"],
        s["supporters"],
        weights=s["weights"],
        rules=s["rules"],
        forbidden=s["forbidden"],
        pinned=s["pinned"],
    )


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance, written independently of the engine."""
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = (
        math.sin((la2 - la1) / 2) ** 2
        + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    )
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def _allowed(r: Recipient, s: Supporter, scenario: dict) -> bool:
    """Every hard rule, checked from the dataclasses without any engine code."""
    common = r.formats & s.formats
    if not (r.languages & s.languages) or not common or not (r.availability & s.availability):
        return False
    if common == {"in_person"}:
        if r.location is None or s.location is None:
            return False
        if _km(r.location, s.location) > scenario["rules"].max_distance_km + 1e-6:
            return False
    if r.tags & s.will_not_support:
        return False
    return (r.id, s.id) not in set(scenario["forbidden"])


def _assert_valid(result: MatchResult, scenario: dict) -> None:
    recipients = {r.id: r for r in scenario["recipients"]}
    supporters = {s.id: s for s in scenario["supporters"]}
    seen = [p.recipient_id for p in result.pairs]
    assert len(seen) == len(set(seen)), "a recipient got two supporters"
    load: dict[int, int] = {}
    for p in result.pairs:
        assert _allowed(recipients[p.recipient_id], supporters[p.supporter_id], scenario)
        load[p.supporter_id] = load.get(p.supporter_id, 0) + 1
    for sid, n in load.items():
        assert n <= supporters[sid].capacity
    assert sorted(result.unmatched) == sorted(set(recipients) - set(seen))
    assert result.total_units == sum(p.units for p in result.pairs)


@FAST
@given(scenarios(max_recipients=6, max_supporters=4))
def test_it_finds_the_brute_force_optimum_on_tiny_programmes(scenario: dict) -> None:
    problem = _problem(scenario)
    result = match(problem, STRICT)
    assert result.total_units == brute_force_total(problem)
    assert result.optimal


@FAST
@given(scenarios(max_recipients=30, max_supporters=12))
def test_it_matches_the_unpruned_exact_flow(scenario: dict) -> None:
    problem = _problem(scenario)
    result = match(problem, STRICT)
    reference = exact(problem)
    assert result.total_units == reference.total_units
    assert result.upper_bound_units == result.total_units
    assert result.gap == 0.0


@FAST
@given(scenarios(max_recipients=30, max_supporters=12))
def test_it_reports_a_valid_upper_bound_even_when_stopped_early(scenario: dict) -> None:
    problem = _problem(scenario)
    result = match(problem, replace(STRICT, max_rounds=1, max_inner=0))
    best = exact(problem).total_units
    assert result.total_units <= best <= result.upper_bound_units


@FAST
@given(scenarios(max_recipients=30, max_supporters=12))
def test_it_never_breaks_a_hard_constraint(scenario: dict) -> None:
    result = match(_problem(scenario), STRICT)
    _assert_valid(result, scenario)
    forbidden = set(scenario["forbidden"])
    assert not any((p.recipient_id, p.supporter_id) in forbidden for p in result.pairs)


@FAST
@given(scenarios(max_recipients=30, max_supporters=12))
def test_it_is_at_least_as_good_as_greedy(scenario: dict) -> None:
    problem = _problem(scenario)
    result = match(problem, STRICT)
    baseline = greedy(problem, k=1, workers=1)
    _assert_valid(baseline, scenario)
    assert result.total_units >= baseline.total_units


@FAST
@given(scenarios(max_recipients=30, max_supporters=12))
def test_it_runs_greedy_exactly_like_a_scan_of_all_pairs_in_score_order(scenario: dict) -> None:
    problem = _problem(scenario)
    if problem.pinned:
        problem = replace(problem, pinned=())
    edges = full_edges(problem)
    chosen = greedy_edges(edges, problem.n_recipients, problem.supporters.capacity)
    expected = {
        (int(problem.recipients.ids[r]), int(problem.supporters.ids[s]))
        for r, s in enumerate(chosen)
        if s >= 0
    }
    got = {(p.recipient_id, p.supporter_id) for p in greedy(problem, k=1, workers=1).pairs}
    assert got == expected


@FAST
@given(scenarios(), st.randoms(use_true_random=False))
def test_it_gives_the_same_assignment_whatever_the_input_order(
    scenario: dict, rnd: random.Random
) -> None:
    first = match(_problem(scenario), STRICT)
    again = match(_problem(scenario), STRICT)
    assert first == again
    shuffled = dict(scenario)
    for key in ("recipients", "supporters", "forbidden", "pinned"):
        shuffled[key] = rnd.sample(scenario[key], len(scenario[key]))
    assert match(_problem(shuffled), STRICT) == first


@FAST
@given(scenarios())
def test_it_explains_every_proposed_pair_with_points_that_sum_to_its_score(scenario: dict) -> None:
    problem = _problem(scenario)
    for pair in match(problem, STRICT).pairs:
        explained = breakdown(problem, pair.recipient_id, pair.supporter_id)
        assert explained.feasible
        assert explained.units == pair.units
        lines = explained.as_dicts()
        assert [line["code"] for line in lines[:2]] == ["language", "format"]
        assert sum(line["points"] for line in lines) == pytest.approx(pair.score)
        assert all(isinstance(line["facts"], dict) for line in lines)


@FAST
@given(scenarios(max_recipients=20, max_supporters=12))
def test_it_scores_and_filters_pairs_the_same_in_the_fast_kernel_and_pair_by_pair(
    scenario: dict,
) -> None:
    problem = _problem(scenario)
    n, m = problem.n_recipients, problem.n_supporters
    uw = unit_weights(problem)
    kernel = Kernel(problem, uw)
    cols = kernel.columns(np.arange(m))
    blocks = kernel.scan(
        np.arange(n), cols, lambda rows, ids, s: (rows.copy(), ids.copy(), s[: len(ids)].copy())
    )
    recipients = {r.id: r for r in scenario["recipients"]}
    supporters = {s.id: s for s in scenario["supporters"]}
    for rows, ids, scores in blocks:
        # One line per supporter, one column per recipient of the block.
        ri = np.tile(rows, len(ids))
        si = np.repeat(ids, len(rows))
        ok = feasible(problem, ri, si)
        want = np.where(ok, sum(components(problem, uw, ri, si).values()), -1)
        assert np.array_equal(scores.ravel().astype(np.int64), want)
        for r, s, allowed in zip(ri, si, ok, strict=True):
            rid, sid = int(problem.recipients.ids[r]), int(problem.supporters.ids[s])
            assert allowed == _allowed(recipients[rid], supporters[sid], scenario)


def test_it_skips_tiles_where_nobody_can_talk_and_still_scores_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kernel_module, "TILE_COLS", 8)
    recipients = [_person(Recipient, i, conditions=frozenset({"bc"})) for i in range(1, 6)]
    supporters = [
        _person(Supporter, 100 + j, languages=frozenset({"pl"} if j < 16 else {"en"}))
        for j in range(24)
    ] + [_person(Supporter, 200 + j, formats=frozenset({"video"})) for j in range(8)]
    problem = build_problem(recipients, supporters)
    uw = unit_weights(problem)
    kernel = Kernel(problem, uw)
    scored: list[int] = []
    real_get = kernel._ws.get

    def get(name, shape, dtype):
        if name == "tot":  # the first buffer a tile that is scored asks for
            scored.append(shape[0])
        return real_get(name, shape, dtype)

    monkeypatch.setattr(kernel._ws, "get", get)
    cols = kernel.columns(np.arange(problem.n_supporters))
    ((rows, ids, scores),) = kernel.scan(
        np.arange(5), cols, lambda rows, ids, s: (rows.copy(), ids.copy(), s[: len(ids)].copy())
    )
    ri, si = np.tile(rows, len(ids)), np.repeat(ids, len(rows))
    ok = feasible(problem, ri, si)
    want = np.where(ok, sum(components(problem, uw, ri, si).values()), -1)
    assert np.array_equal(scores.ravel().astype(np.int64), want)
    # Only the tile of English speakers on the phone is scored; Polish speakers, video only
    # and the padding up to a whole chunk are skipped.
    assert ok.sum() == 5 * 8 and scored == [8]


def test_pricing_finds_real_pairs_however_many_free_supporters_cannot_talk() -> None:
    recipient = _person(Recipient, 1)
    supporters = [_person(Supporter, 10 + j, languages=frozenset({"pl"})) for j in range(5)]
    supporters.append(_person(Supporter, 20))
    problem = build_problem([recipient], supporters)
    kernel = Kernel(problem, unit_weights(problem))
    u = np.array([0])
    # The real pair's supporter is dearer than the pair scores (a gain below -1, within the
    # slack); the others are free, and can't talk with the recipient (score -1, gain -1).
    v = np.zeros(problem.n_supporters, dtype=np.int64)
    v[problem.supporter_index(20)] = 15_000
    tau = np.array([10_000])
    priced = candidates_module.price(
        kernel, np.arange(6), np.array([0]), u, v, tau, 1, workers=1, slack=20_000
    )
    assert priced.edges.si.tolist() == [problem.supporter_index(20)]


@FAST
@given(scenarios(max_recipients=20, max_supporters=12), st.integers(1, 3))
def test_it_bounds_every_pair_left_out_of_the_candidates(scenario: dict, k: int) -> None:
    problem = _problem(scenario)
    uw = unit_weights(problem)
    kernel = Kernel(problem, uw)
    cols = kernel.columns(np.arange(problem.n_supporters))
    cands = generate(kernel, cols, np.arange(problem.n_recipients), k, workers=1, per_supporter=1)
    full = full_edges(problem)
    kept = set(zip(cands.edges.ri.tolist(), cands.edges.si.tolist(), strict=True))
    for r, s, w in zip(full.ri.tolist(), full.si.tolist(), full.w.tolist(), strict=True):
        if (r, s) not in kept:
            assert w <= cands.tau[r]
    weight = {(r, s): w for r, s, w in zip(full.ri.tolist(), full.si.tolist(), full.w.tolist())}
    for r, s, w in zip(cands.edges.ri.tolist(), cands.edges.si.tolist(), cands.edges.w.tolist()):
        assert weight[(r, s)] == w
    every: dict[int, list[int]] = {}
    for (r, _), w in weight.items():
        every.setdefault(r, []).append(w)
    found: dict[int, list[int]] = {}
    for r, s in kept:
        found.setdefault(r, []).append(weight[(r, s)])
    for r, ws in every.items():
        assert sorted(found.get(r, []), reverse=True)[:k] == sorted(ws, reverse=True)[:k]


def test_it_gives_the_same_answer_with_small_tiles_several_threads_or_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = _seeded_scenario(150, 140, seed=7)
    problem = _problem(scenario)
    reference = exact(problem)
    monkeypatch.setattr(kernel_module, "TILE_COLS", 64)
    monkeypatch.setattr(kernel_module, "BLOCK_ROWS", 5)
    one = match(problem, SolverConfig(k=2, workers=1))
    threads = match(problem, SolverConfig(k=2, workers=2))
    forks: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(candidates_module, "FORK_PAIRS", 0)
    monkeypatch.setattr(os, "fork", fork)
    processes = match(problem, SolverConfig(k=2, workers=3))
    assert forks, "the scans were split across processes"
    assert one == threads == processes
    assert one.total_units == reference.total_units
    assert one.optimal
    _assert_valid(one, scenario)


def test_it_is_optimal_on_a_programme_wider_than_one_tile() -> None:
    scenario = _seeded_scenario(90, 2200, seed=3)
    problem = _problem(scenario)
    result = match(problem, SolverConfig(k=3, workers=2))
    assert result.total_units == exact(problem).total_units
    assert result.optimal
    _assert_valid(result, scenario)


def _seeded_scenario(n: int, m: int, seed: int) -> dict:
    """A reproducible random programme, bigger than hypothesis would draw."""
    rnd = random.Random(seed)

    def some(items: tuple[str, ...], lo: int = 0) -> frozenset[str]:
        return frozenset(rnd.sample(items, rnd.randint(lo, len(items))))

    def place() -> tuple[float, float] | None:
        return (
            None if rnd.random() < 0.1 else (51.8 + rnd.random() * 0.4, -0.3 + rnd.random() * 0.6)
        )

    def week() -> int:
        return sum(1 << b for b in rnd.sample(range(21), rnd.randint(1, 6)))

    recipients = [
        Recipient(
            id=1000 + i,
            languages=frozenset({"en"}) if rnd.random() < 0.8 else some(LANGUAGES, 1),
            formats=some(FORMATS, 1),
            availability=week(),
            conditions=some(CONDITIONS),
            experiences=some(EXPERIENCES),
            role=rnd.choice(["patient", "caregiver"]),
            age=rnd.randint(18, 90),
            location=place(),
            waiting_days=rnd.randint(0, 200),
            tags=some(TAGS) if rnd.random() < 0.2 else frozenset(),
            priorities=some(("condition", "age")) if rnd.random() < 0.3 else frozenset(),
        )
        for i in range(n)
    ]
    supporters = [
        Supporter(
            id=5000 + j,
            languages=frozenset({"en"}) if rnd.random() < 0.8 else some(LANGUAGES, 1),
            formats=some(FORMATS, 1),
            availability=week(),
            capacity=rnd.randint(0, 3),
            conditions=some(CONDITIONS),
            experiences=some(EXPERIENCES),
            roles=some(("patient", "caregiver"), 1),
            age=rnd.randint(20, 75),
            location=place(),
            will_not_support=some(TAGS) if rnd.random() < 0.2 else frozenset(),
        )
        for j in range(m)
    ]
    forbidden = [(1000 + rnd.randrange(n), 5000 + rnd.randrange(m)) for _ in range(n // 3)]
    return {
        "recipients": recipients,
        "supporters": supporters,
        "forbidden": forbidden,
        "pinned": [],
        "weights": Weights(),
        "rules": Rules(max_distance_km=20.0),
    }


EVENINGS = slots(("Mon", "evening"), ("Wed", "evening"), ("Fri", "evening"))


def _person(cls: type, pid: int, **fields: object) -> Any:
    base = {
        "languages": frozenset({"en"}),
        "formats": frozenset({"phone"}),
        "availability": EVENINGS,
    }
    return cls(id=pid, **{**base, **fields})


def test_it_explains_each_criterion_with_codes_and_numbers() -> None:
    recipient = _person(
        Recipient,
        1,
        conditions=frozenset({"bc"}),
        role="caregiver",
        age=44,
        waiting_days=41,
        preferred_format="phone",
    )
    supporter = _person(
        Supporter, 2, conditions=frozenset({"bc"}), roles=frozenset({"caregiver"}), age=47
    )
    problem = build_problem([recipient], [supporter])
    lines = {item.code: (item.points, item.facts) for item in breakdown(problem, 1, 2).items}
    assert lines == {
        "language": (0.0, {"languages": ("en",)}),
        "format": (0.0, {"formats": ("phone",)}),
        "compatible": (10.0, {}),
        "condition": (30.0, {"conditions": ("bc",), "priority": False}),
        "caring_situation": (10.0, {"role": "caregiver", "priority": False}),
        "age": (10.0, {"decades": (40, 40), "priority": False}),
        "slots": (12.0, {"count": 3, "part_of_day": "evening"}),
        "preferred_format": (5.0, {"format": "phone"}),
        "waiting": (8.79, {"days": 41}),
    }
    result = match(problem)
    assert result.pairs[0].score == pytest.approx(sum(points for points, _ in lines.values()))


def test_it_doubles_what_the_recipient_said_matters_most() -> None:
    recipient = _person(
        Recipient, 1, conditions=frozenset({"bc"}), priorities=frozenset({"condition"})
    )
    supporter = _person(Supporter, 2, conditions=frozenset({"bc"}))
    problem = build_problem([recipient], [supporter])
    items = {c.code: c for c in breakdown(problem, 1, 2).items}
    assert items["condition"].points == 60.0
    assert items["condition"].facts == {"conditions": ("bc",), "priority": True}


def test_it_says_why_a_pair_is_not_allowed() -> None:
    recipient = _person(Recipient, 1, languages=frozenset({"pl"}), formats=frozenset({"video"}))
    supporter = _person(Supporter, 2)
    explained = breakdown(build_problem([recipient], [supporter]), 1, 2)
    assert not explained.feasible
    assert explained.failed == ("language", "format")
    assert explained.items == ()


def test_it_keeps_in_person_only_pairs_within_the_distance_limit() -> None:
    home = (52.20, 0.12)
    near = (52.25, 0.12)  # about 5.6 km north
    far = (52.60, 0.12)  # about 44 km north
    recipient = _person(Recipient, 1, formats=frozenset({"in_person"}), location=home)
    supporters = [
        _person(Supporter, 10, formats=frozenset({"in_person"}), location=far),
        _person(Supporter, 11, formats=frozenset({"in_person"}), location=None),
        _person(Supporter, 12, formats=frozenset({"in_person", "phone"}), location=near),
    ]
    problem = build_problem([recipient], supporters, rules=Rules(max_distance_km=25))
    assert breakdown(problem, 1, 10).failed == ("distance",)
    assert breakdown(problem, 1, 11).failed == ("distance",)
    assert breakdown(problem, 1, 12).feasible
    items = {c.code: c for c in breakdown(problem, 1, 12).items}
    assert items["format"].facts == {"formats": ("in_person",), "km": 5.6, "limit_km": 25.0}
    assert (items["closeness"].points, items["closeness"].facts) == (4.0, {"km": 5.6})
    assert match(problem).supporter_of() == {1: 12}


def test_it_honours_a_pinned_pair_even_when_another_would_score_more() -> None:
    recipients = [
        _person(Recipient, 1, conditions=frozenset({"bc"})),
        _person(Recipient, 2, conditions=frozenset({"ms"})),
    ]
    supporters = [
        _person(Supporter, 10, conditions=frozenset({"bc"})),
        _person(Supporter, 11, conditions=frozenset({"ms"})),
    ]
    assert match(build_problem(recipients, supporters)).supporter_of() == {1: 10, 2: 11}
    pinned = build_problem(recipients, supporters, pinned=[(1, 11)])
    result = match(pinned)
    assert result.supporter_of() == {1: 11, 2: 10}
    assert [p.pinned for p in result.pairs] == [True, False]
    assert result.optimal


def test_it_rejects_pins_that_break_a_rule_and_says_why() -> None:
    recipients = [_person(Recipient, 1), _person(Recipient, 2, languages=frozenset({"pl"}))]
    supporters = [_person(Supporter, 10, capacity=1)]
    problem = build_problem(recipients, supporters, pinned=[(1, 10), (2, 10), (3, 10)])
    result = match(problem)
    assert result.supporter_of() == {1: 10}
    reasons = {pin.recipient_id: pin.reasons for pin in result.rejected_pins}
    assert reasons[2] == ("language", "no_free_place")
    assert reasons[3] == ("unknown_recipient",)


def test_it_never_proposes_a_forbidden_pair() -> None:
    recipients = [_person(Recipient, 1, conditions=frozenset({"bc"}))]
    supporters = [
        _person(Supporter, 10, conditions=frozenset({"bc"})),
        _person(Supporter, 11),
    ]
    problem = build_problem(recipients, supporters, forbidden=[(1, 10), (99, 10)])
    assert match(problem).supporter_of() == {1: 11}


def test_it_explains_which_rule_left_a_recipient_without_anybody() -> None:
    far = (53.5, 0.12)
    winner = _person(Recipient, 2, conditions=frozenset({"bc"}), waiting_days=200)
    recipient = _person(
        Recipient,
        1,
        languages=frozenset({"pl", "en"}),
        formats=frozenset({"phone", "in_person"}),
        tags=frozenset({"grief"}),
        location=(52.2, 0.12),
    )
    supporters = [
        _person(Supporter, 10, languages=frozenset({"ur"})),
        _person(Supporter, 11, languages=frozenset({"ur"})),
        _person(Supporter, 12, formats=frozenset({"video"})),
        _person(Supporter, 13, availability=slots(("Sun", "morning"))),
        _person(Supporter, 14, formats=frozenset({"in_person"}), location=far),
        _person(Supporter, 15, will_not_support=frozenset({"grief"})),
        _person(Supporter, 16),
        _person(Supporter, 17, capacity=0),
        _person(Supporter, 18, conditions=frozenset({"bc"})),
    ]
    problem = build_problem([recipient, winner], supporters, forbidden=[(1, 16)], pinned=[(2, 18)])
    result = match(problem)
    assert result.unmatched == (1,)
    (why,) = explain_unmatched(problem, result.unmatched, result)
    assert why.recipient_id == 1
    assert why.counts == {
        "language": 2,
        "format": 1,
        "availability": 1,
        "distance": 1,
        "exclusion": 1,
        "forbidden": 1,
        "no_places": 1,
        "full": 1,
        "no_benefit": 0,
        "available": 0,
    }
    assert why.compatible == 2


def test_it_explains_many_unmatched_recipients_in_a_few_grids_not_one_pass_each(
    monkeypatch,
) -> None:
    from matching.engine import explain as explain_module

    calls = []
    real_checks = explain_module.checks

    def counted(problem, ri, si):
        calls.append(np.broadcast_shapes(np.shape(ri), np.shape(si)))
        return real_checks(problem, ri, si)

    monkeypatch.setattr(explain_module, "checks", counted)
    supporters = [_person(Supporter, 1000 + j, languages=frozenset({"ur"})) for j in range(30)]
    for n in (10, 400):
        calls.clear()
        recipients = [_person(Recipient, i) for i in range(1, n + 1)]
        problem = build_problem(recipients, supporters)
        result = match(problem)
        assert len(result.unmatched) == n
        explained = explain_unmatched(problem, result.unmatched, result)
        assert [why.counts["language"] for why in explained] == [30] * n
        # One grid of every recipient against every supporter, however many there are.
        assert calls == [(n, 30)]


def test_it_handles_empty_programmes() -> None:
    assert match(build_problem([], [])).pairs == ()
    only_recipients = match(build_problem([_person(Recipient, 1)], []))
    assert only_recipients.unmatched == (1,)
    assert only_recipients.optimal
    assert match(build_problem([], [_person(Supporter, 1)])).total_units == 0


def test_it_rejects_duplicate_ids_and_unknown_formats() -> None:
    with pytest.raises(ValueError, match="unique"):
        build_problem([_person(Recipient, 1), _person(Recipient, 1)], [])
    with pytest.raises(ValueError, match="unknown formats"):
        build_problem([_person(Recipient, 1, formats=frozenset({"carrier pigeon"}))], [])
