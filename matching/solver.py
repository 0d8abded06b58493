"""The bridge between Django and the matching engine.

Reads a programme's waiting requests and available supporters, turns them into the engine's
input, and turns the engine's answer back into proposals and the reasons behind them, as
codes and numbers that matching.reasons puts into words. Engine ids are
BuddyRequest ids (recipients) and SupporterProfile ids (supporters).
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from programmes.models import Programme

from . import engine, places, vocab
from .models import BuddyRequest, MatchSettings, Pairing, PairRule, Proposal, SupporterProfile

# A person whose pairing did not work out counts as having waited this much longer, so the
# waiting bonus (which is capped) lifts them ahead of people who have not been matched yet.
PRIORITY_EXTRA_WAITING_DAYS = 120


@dataclass
class MatchInput:
    requests: dict[int, BuddyRequest]
    profiles: dict[int, SupporterProfile]
    recipients: list[engine.Recipient]
    supporters: list[engine.Supporter]
    forbidden: list[tuple[int, int]]
    pinned: list[tuple[int, int]]
    weights: engine.Weights
    rules: engine.Rules
    skipped: dict[str, int] = field(default_factory=dict)


@dataclass
class MatchOutput:
    proposals: list[dict]
    unmatched: list[dict]


def settings_for(programme: Programme) -> MatchSettings:
    settings, _created = MatchSettings.objects.get_or_create(programme=programme)
    return settings


def weights_from(parameters: dict) -> tuple[engine.Weights, engine.Rules]:
    weights = engine.Weights(
        condition=parameters["condition"],
        experience=parameters["experience"],
        caring_situation=parameters["caring_situation"],
        same_age_band=parameters["same_age_band"],
        adjacent_age_band=min(parameters["same_age_band"], engine.Weights().adjacent_age_band),
        slot=parameters["slot"],
        preferred_format=parameters["preferred_format"],
        waiting_per_week=parameters["waiting_per_week"],
        max_waiting=parameters["max_waiting"],
        priority_multiplier=parameters["priority_multiplier"],
    )
    return weights, engine.Rules(max_distance_km=parameters["max_distance_km"])


def _location(formats: list[str], town: str) -> tuple[float, float] | None:
    return places.location(town) if "in_person" in formats else None


def eligible_requests(programme: Programme):
    """Waiting requests of active members, with no proposal under review and no live pairing."""
    return (
        BuddyRequest.objects.unproposed()
        .filter(enrolment__programme=programme, enrolment__status="active")
        .select_related("enrolment")
    )


def eligible_supporters(programme: Programme, today: datetime.date) -> tuple[list, dict[str, int]]:
    """Approved, trained, not paused supporters with a free place, and their free places."""
    profiles = (
        SupporterProfile.objects.filter(enrolment__programme=programme)
        .approved()
        .with_load()
        .select_related("enrolment__programme")
        .prefetch_related("training__module")
    )
    modules = list(programme.training_modules.filter(is_active=True))
    chosen, skipped = [], Counter()
    for profile in profiles:
        if profile.is_paused(today):
            skipped["paused"] += 1
            continue
        free = profile.capacity - profile.live_pairings - profile.open_proposals
        if free <= 0:
            skipped["full"] += 1
            continue
        if modules and _training_missing(profile, modules, today):
            skipped["training"] += 1
            continue
        chosen.append((profile, free))
    return chosen, dict(skipped)


def _training_missing(profile: SupporterProfile, modules: list, today: datetime.date) -> bool:
    done = {c.module_id: c for c in profile.training.all()}
    return any(m.pk not in done or not done[m.pk].is_current(today) for m in modules)


def build_input(
    programme: Programme, parameters: dict, now: datetime.datetime | None = None
) -> MatchInput:
    """Everything the engine needs for one programme, read from the database."""
    now = now or timezone.now()
    requests = {r.pk: r for r in eligible_requests(programme)}
    supporters, skipped = eligible_supporters(programme, timezone.localdate(now))
    profiles = {p.pk: p for p, _free in supporters}
    recipients = [
        engine.Recipient(
            id=r.pk,
            languages=frozenset(r.languages),
            formats=frozenset(r.formats),
            availability=r.availability,
            conditions=frozenset(r.conditions),
            experiences=frozenset(r.experiences),
            role=r.enrolment.role,
            age=vocab.AGE_FOR_GROUP.get(r.age_group),
            location=_location(r.formats, r.town),
            waiting_days=r.waiting_days(now) + (PRIORITY_EXTRA_WAITING_DAYS if r.priority else 0),
            tags=frozenset(r.topics),
            priorities=frozenset(r.wants),
            preferred_format=r.preferred_format or None,
        )
        for r in requests.values()
    ]
    engine_supporters = [
        engine.Supporter(
            id=p.pk,
            languages=frozenset(p.languages),
            formats=frozenset(p.formats),
            availability=p.availability,
            capacity=free,
            conditions=frozenset(p.conditions),
            experiences=frozenset(p.experiences),
            roles=frozenset(p.lived_roles),
            age=vocab.AGE_FOR_GROUP.get(p.age_group),
            location=_location(p.formats, p.town),
            will_not_support=frozenset(p.will_not_support),
        )
        for p, free in supporters
    ]
    forbidden, pinned = _rules(programme, requests, profiles)
    weights, rules = weights_from(parameters)
    return MatchInput(
        requests,
        profiles,
        recipients,
        engine_supporters,
        forbidden,
        pinned,
        weights,
        rules,
        skipped,
    )


def _rules(
    programme: Programme, requests: dict[int, BuddyRequest], profiles: dict[int, SupporterProfile]
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Forbidden and pinned (request id, profile id) pairs among the people in this run."""
    request_of = {r.enrolment_id: r.pk for r in requests.values()}
    user_of_request = {r.pk: r.enrolment.user_id for r in requests.values()}
    forbidden: set[tuple[int, int]] = set()
    pinned: list[tuple[int, int]] = []
    for rule in PairRule.objects.filter(programme=programme).order_by("created_at", "pk"):
        rid = request_of.get(rule.recipient_id)
        if rid is None or rule.supporter_id not in profiles:
            continue
        if rule.kind == PairRule.Kind.FORBID:
            forbidden.add((rid, rule.supporter_id))
        else:
            pinned.append((rid, rule.supporter_id))
    # A declined or ended pair, or a proposal the coordinator rejected, is never proposed again.
    ended = Pairing.objects.filter(programme=programme, status=Pairing.Status.ENDED).values_list(
        "recipient_id", "supporter_id"
    )
    rejected = Proposal.objects.filter(
        run__programme=programme, status=Proposal.Status.REJECTED
    ).values_list("request__enrolment_id", "supporter_id")
    for enrolment_id, profile_id in [*ended, *rejected]:
        rid = request_of.get(enrolment_id)
        if rid is not None and profile_id in profiles:
            forbidden.add((rid, profile_id))
    # Nobody is their own buddy.
    for pid, profile in profiles.items():
        for rid, user_id in user_of_request.items():
            if profile.enrolment.user_id == user_id:
                forbidden.add((rid, pid))
    pinned = [pair for pair in pinned if pair not in forbidden]
    return sorted(forbidden), pinned


def _with_real_waiting(breakdown: list[dict], request: BuddyRequest) -> list[dict]:
    """Say how long a priority request really waited; the engine counted the extra days too."""
    if not request.priority:
        return breakdown
    for item in breakdown:
        if item["code"] == "waiting":
            days = item["facts"]["days"] - PRIORITY_EXTRA_WAITING_DAYS
            item["facts"] = {**item["facts"], "days": max(0, days), "again": True}
    return breakdown


def solve(data: MatchInput, progress: Callable[[int], None] | None = None) -> MatchOutput:
    """Run the engine and explain the result as codes and numbers (see matching.reasons)."""
    progress = progress or (lambda _p: None)
    problem = engine.build_problem(
        data.recipients,
        data.supporters,
        weights=data.weights,
        rules=data.rules,
        forbidden=data.forbidden,
        pinned=data.pinned,
    )
    progress(40)
    result = engine.match(problem)
    progress(80)
    proposals = [
        {
            "request_id": pair.recipient_id,
            "supporter_id": pair.supporter_id,
            "score": pair.score,
            "pinned": pair.pinned,
            "breakdown": _with_real_waiting(
                engine.breakdown(problem, pair.recipient_id, pair.supporter_id).as_dicts(),
                data.requests[pair.recipient_id],
            ),
        }
        for pair in result.pairs
    ]
    rejected_pins = {pin.recipient_id: pin for pin in result.rejected_pins}
    unmatched = [
        _unmatched(why, problem.n_supporters, rejected_pins.get(why.recipient_id))
        for why in engine.explain_unmatched(problem, result.unmatched, result)
    ]
    return MatchOutput(proposals, unmatched)


def _unmatched(why: engine.Unmatched, supporters: int, rejected_pin=None) -> dict:
    """Why a request got nobody: how many supporters each reason ruled out, most first."""
    order = {code: i for i, code in enumerate(engine.REASONS)}
    counted = sorted(
        ((code, n) for code, n in why.counts.items() if n), key=lambda c: (-c[1], order[c[0]])
    )
    explanation = {
        "request_id": why.recipient_id,
        "supporters": supporters,
        "reasons": [{"code": code, "count": n} for code, n in counted],
    }
    if rejected_pin is not None:
        explanation["pin_problem"] = list(rejected_pin.reasons)
    return explanation


def supporters_query_for_hand_pairing(programme: Programme):
    """Approved supporters of a programme a coordinator may pair by hand."""
    return (
        SupporterProfile.objects.filter(enrolment__programme=programme)
        .approved()
        .filter(Q(paused_until__isnull=True) | Q(paused_until__lt=timezone.localdate()))
    )
