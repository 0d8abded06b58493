"""Demo data for buddy matching: supporter profiles, buddy requests, a finished run and pairings.

Keyed on enrolments and programmes, so seeding twice changes nothing.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from programmes.models import Enrolment

from . import vocab
from .models import (
    BuddyRequest,
    MatchRun,
    ScreeningStep,
    SupporterProfile,
    TrainingCompletion,
    TrainingModule,
)
from .services import pairings as pairing_services
from .services import runs as run_services
from .solver import settings_for

CONDITION_OF = ["type_2_diabetes", "cancer", "long_covid"]
TOWNS = ["northfield", "birmingham", "redditch", "coventry"]
MODULES = [
    ("Listening well", "Listening without fixing, and sharing your story safely.", None),
    (
        "Boundaries and safety",
        "Keeping contact on the platform, and what to do about a worry.",
        365,
    ),
]
STORIES = [
    "I was diagnosed at 50 and felt very alone at first. Small changes helped me a lot.",
    "I looked after my mum through her treatment. I know how tiring caring can be.",
    "I have lived with this for years and still have good and bad weeks.",
    "Going back to work was hard for me. I am happy to talk about pacing.",
]
DEMO_MESSAGES = [
    ("recipient", "Hello! Thank you for agreeing to be my buddy."),
    ("supporter", "Hello, lovely to meet you. How have you been this week?"),
    ("recipient", "A bit tired, but better after our call on Tuesday."),
]


def _slots(rng, count: int) -> int:
    mask = 0
    for bit in rng.sample(range(21), count):
        mask |= 1 << bit
    return mask


def _modules(programme) -> list[TrainingModule]:
    modules = []
    for order, (name, description, valid) in enumerate(MODULES):
        module, _ = TrainingModule.objects.get_or_create(
            programme=programme,
            name=name,
            defaults={"description": description, "valid_for_days": valid, "order": order},
        )
        modules.append(module)
    return modules


def _supporter(enrolment: Enrolment, index: int, rng, coordinator, modules) -> SupporterProfile:
    condition = CONDITION_OF[index % 3]
    formats = ["phone", "video", "messaging"] + (["in_person"] if index % 2 == 0 else [])
    profile, created = SupporterProfile.objects.get_or_create(
        enrolment=enrolment,
        defaults={
            "lived_experience": STORIES[index % len(STORIES)],
            "lived_roles": ["caregiver"] if condition == "cancer" else ["patient"],
            "conditions": [condition],
            "experiences": rng.sample(vocab.codes(vocab.EXPERIENCES), 2),
            "age_group": rng.choice(vocab.codes(vocab.AGE_GROUPS)),
            "languages": ["en"] + (["pl"] if index % 4 == 1 else []),
            "availability": _slots(rng, 8),
            "formats": formats,
            "town": TOWNS[index % len(TOWNS)] if "in_person" in formats else "",
            "capacity": 1 + index % 2,
            "will_not_support": ["alcohol_drugs"] if index % 5 == 0 else [],
        },
    )
    if created and enrolment.status == Enrolment.Status.ACTIVE:
        done_on = timezone.localdate() - datetime.timedelta(days=60)
        for kind in ScreeningStep.Kind.values:
            ScreeningStep.objects.create(
                profile=profile,
                kind=kind,
                done_on=done_on,
                outcome="passed",
                recorded_by=coordinator,
            )
        for module in modules:
            TrainingCompletion.objects.get_or_create(
                profile=profile,
                module=module,
                defaults={"completed_on": done_on, "recorded_by": coordinator},
            )
        profile.decided_by, profile.decided_at = coordinator, timezone.now()
        profile.save(update_fields=["decided_by", "decided_at"])
    return profile


def _request(enrolment: Enrolment, index: int, rng, coordinator) -> None:
    if BuddyRequest.objects.filter(enrolment=enrolment).exists():
        return
    condition = CONDITION_OF[index % 3]
    formats = rng.sample(["phone", "video", "messaging", "in_person"], 2)
    BuddyRequest.objects.create(
        enrolment=enrolment,
        wants=rng.sample(vocab.codes(vocab.WANTS), 1 + index % 2),
        conditions=[condition],
        experiences=rng.sample(vocab.codes(vocab.EXPERIENCES), 1),
        age_group=rng.choice(vocab.codes(vocab.AGE_GROUPS)),
        languages=["en"],
        availability=_slots(rng, 9),
        formats=formats,
        preferred_format=formats[0],
        town=TOWNS[index % len(TOWNS)] if "in_person" in formats else "",
        waiting_since=timezone.now() - datetime.timedelta(days=3 + 5 * index),
        assisted_by=coordinator if index % 7 == 0 else None,
    )


def _demo_run(programme, coordinator) -> None:
    """A finished run in the first programme, two of its proposals now active pairings."""
    if MatchRun.objects.filter(programme=programme).exists():
        return
    run = MatchRun.objects.create(
        programme=programme, started_by=coordinator, parameters=settings_for(programme).parameters()
    )
    run_services.match_run_execute(run_id=run.pk)
    for proposal in run.proposals.order_by("-score", "pk")[:2]:
        pairing = run_services.proposal_approve(coordinator=coordinator, proposal=proposal)
        pairing_services.pairing_introduce(coordinator=coordinator, pairing=pairing)
        recipient = pairing.recipient.user
        supporter = pairing.supporter.enrolment.user
        pairing_services.pairing_accept(user=recipient, pairing=pairing, agreed=True)
        pairing = pairing_services.pairing_accept(user=supporter, pairing=pairing, agreed=True)
        for side, body in DEMO_MESSAGES:
            sender = recipient if side == "recipient" else supporter
            pairing_services.message_send(user=sender, pairing=pairing, body=body)
        pairing_services.contact_log_create(
            user=supporter,
            pairing=pairing,
            contact_on=timezone.localdate(),
            minutes=30,
            method="phone",
            note="First call: got to know each other.",
        )


def seed(context) -> None:
    coordinator = context.coordinators[0]
    modules_of = {}
    for programme in context.programmes:
        settings_for(programme)
        modules_of[programme.pk] = _modules(programme)
    for index, user in enumerate(context.supporters):
        for enrolment in Enrolment.objects.filter(user=user, role="supporter").select_related(
            "programme"
        ):
            _supporter(
                enrolment,
                index,
                context.rng,
                coordinator,
                modules_of.get(enrolment.programme_id, []),
            )
    for index, user in enumerate(context.members):
        if index % 3 == 2:
            continue
        for enrolment in (
            Enrolment.objects.filter(user=user).recipients().active().select_related("programme")
        ):
            if enrolment.programme.offers_one_to_one:
                _request(enrolment, index, context.rng, coordinator)
    _demo_run(context.programmes[0], coordinator)
