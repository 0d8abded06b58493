"""Supporter onboarding: application profile, screening, training, approval, pause, capacity."""

from __future__ import annotations

import datetime
import logging

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from programmes.models import Enrolment, Programme

from ..models import (
    MAX_CAPACITY,
    ScreeningStep,
    SupporterProfile,
    TrainingCompletion,
    TrainingModule,
)
from .common import IllegalTransition, MatchingError, require_manager

logger = logging.getLogger(__name__)

PROFILE_FIELDS = (
    "lived_experience",
    "lived_roles",
    "conditions",
    "experiences",
    "age_group",
    "languages",
    "availability",
    "formats",
    "town",
    "capacity",
    "will_not_support",
    "will_not_support_notes",
)
REQUIRED_STEPS = (
    ScreeningStep.Kind.INTERVIEW,
    ScreeningStep.Kind.REFERENCE,
    ScreeningStep.Kind.BACKGROUND_CHECK,
)


def _check_offer(fields: dict) -> None:
    if not fields.get("languages"):
        raise MatchingError(_("Please choose at least one language."))
    if not fields.get("formats"):
        raise MatchingError(_("Please choose at least one way to talk."))
    if not fields.get("availability"):
        raise MatchingError(_("Please choose at least one time when you are free."))
    if "in_person" in fields["formats"] and not fields.get("town"):
        raise MatchingError(_("To meet in person, please choose your nearest town."))
    capacity = fields.get("capacity", 1)
    if not 1 <= capacity <= MAX_CAPACITY:
        raise MatchingError(
            _("You can support between 1 and %(max)d people at once.") % {"max": MAX_CAPACITY}
        )


def supporter_profile_save(*, user: User, enrolment: Enrolment, **fields) -> SupporterProfile:
    """Create or update the supporter's own profile for a supporter enrolment."""
    if enrolment.user_id != user.pk or enrolment.role != Enrolment.Role.SUPPORTER:
        raise PermissionDenied
    if enrolment.status not in (Enrolment.Status.APPLIED, Enrolment.Status.ACTIVE):
        raise MatchingError(_("This application is closed. Please contact the coordinator."))
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown profile fields: {sorted(unknown)}")
    _check_offer(fields)
    profile, _created = SupporterProfile.objects.update_or_create(
        enrolment=enrolment, defaults=fields
    )
    return profile


def screening_step_record(
    *,
    coordinator: User,
    profile: SupporterProfile,
    kind: str,
    done_on: datetime.date,
    outcome: str,
    notes: str = "",
) -> ScreeningStep:
    """Record an interview, a reference or a background check, with its date and outcome."""
    require_manager(user=coordinator, programme=profile.enrolment.programme)
    if done_on > timezone.localdate():
        raise MatchingError(_("The date cannot be in the future."))
    return ScreeningStep.objects.create(
        profile=profile,
        kind=kind,
        done_on=done_on,
        outcome=outcome,
        notes=notes,
        recorded_by=coordinator,
    )


def training_module_create(
    *,
    coordinator: User,
    programme: Programme,
    name: str,
    description: str = "",
    valid_for_days: int | None = None,
) -> TrainingModule:
    """Add a training module that the programme's supporters must complete."""
    require_manager(user=coordinator, programme=programme)
    if TrainingModule.objects.filter(programme=programme, name__iexact=name).exists():
        raise MatchingError(_("There is already a module with that name."))
    order = programme.training_modules.count()
    return TrainingModule.objects.create(
        programme=programme,
        name=name,
        description=description,
        valid_for_days=valid_for_days,
        order=order,
    )


def training_record(
    *,
    coordinator: User,
    profile: SupporterProfile,
    module: TrainingModule,
    completed_on: datetime.date,
) -> TrainingCompletion:
    """Mark a module complete for a supporter on a date (a later date refreshes it)."""
    require_manager(user=coordinator, programme=profile.enrolment.programme)
    if module.programme_id != profile.enrolment.programme_id:
        raise PermissionDenied
    if completed_on > timezone.localdate():
        raise MatchingError(_("The date cannot be in the future."))
    completion, _created = TrainingCompletion.objects.update_or_create(
        profile=profile,
        module=module,
        defaults={"completed_on": completed_on, "recorded_by": coordinator},
    )
    return completion


def training_missing(profile: SupporterProfile, today: datetime.date | None = None) -> list[str]:
    """Names of required modules the supporter has not completed, or whose training ran out."""
    today = today or timezone.localdate()
    done = {c.module_id: c for c in profile.training.select_related("module")}
    missing = []
    for module in profile.enrolment.programme.training_modules.filter(is_active=True):
        completion = done.get(module.pk)
        if completion is None or not completion.is_current(today):
            missing.append(module.name)
    return missing


def screening_missing(profile: SupporterProfile) -> list[str]:
    """Screening steps that have not been passed yet."""
    passed = set(
        profile.steps.filter(outcome=ScreeningStep.Outcome.PASSED).values_list("kind", flat=True)
    )
    return [str(ScreeningStep.Kind(kind).label) for kind in REQUIRED_STEPS if kind not in passed]


@transaction.atomic
def supporter_approve(*, coordinator: User, profile: SupporterProfile) -> SupporterProfile:
    """Approve an applicant once interview, reference and background check have passed."""
    require_manager(user=coordinator, programme=profile.enrolment.programme)
    missing = screening_missing(profile)
    if missing:
        raise MatchingError(
            _("Before approving, please record these as passed: %(steps)s.")
            % {"steps": ", ".join(missing)}
        )
    updated = Enrolment.objects.filter(
        pk=profile.enrolment_id, status=Enrolment.Status.APPLIED
    ).update(status=Enrolment.Status.ACTIVE, decline_reason="")
    if not updated:
        raise IllegalTransition(_("Only an application that is waiting can be approved."))
    profile.decided_by = coordinator
    profile.decided_at = timezone.now()
    profile.save(update_fields=["decided_by", "decided_at", "updated_at"])
    profile.enrolment.refresh_from_db()
    logger.info("matching.supporter_approved", extra={"profile_id": profile.pk})
    return profile


@transaction.atomic
def supporter_decline(
    *, coordinator: User, profile: SupporterProfile, reason: str
) -> SupporterProfile:
    """Decline an application, with a reason kept for the record."""
    require_manager(user=coordinator, programme=profile.enrolment.programme)
    if not reason.strip():
        raise MatchingError(_("Please give a reason."))
    updated = Enrolment.objects.filter(
        pk=profile.enrolment_id, status=Enrolment.Status.APPLIED
    ).update(status=Enrolment.Status.DECLINED, decline_reason=reason.strip()[:300])
    if not updated:
        raise IllegalTransition(_("Only an application that is waiting can be declined."))
    profile.decided_by = coordinator
    profile.decided_at = timezone.now()
    profile.save(update_fields=["decided_by", "decided_at", "updated_at"])
    profile.enrolment.refresh_from_db()
    return profile


def _require_self_or_manager(*, user: User, profile: SupporterProfile) -> None:
    if profile.enrolment.user_id == user.pk:
        return
    require_manager(user=user, programme=profile.enrolment.programme)


def supporter_pause(
    *, user: User, profile: SupporterProfile, until: datetime.date, reason: str = ""
) -> SupporterProfile:
    """Pause a supporter (holiday, illness) until a date: no new matches until then."""
    _require_self_or_manager(user=user, profile=profile)
    if until < timezone.localdate():
        raise MatchingError(_("Please choose a date from today onwards."))
    if until > timezone.localdate() + datetime.timedelta(days=366):
        raise MatchingError(_("You can pause for up to a year."))
    profile.paused_until = until
    profile.pause_reason = reason[:200]
    profile.save(update_fields=["paused_until", "pause_reason", "updated_at"])
    return profile


def supporter_resume(*, user: User, profile: SupporterProfile) -> SupporterProfile:
    """End a pause now."""
    _require_self_or_manager(user=user, profile=profile)
    profile.paused_until = None
    profile.pause_reason = ""
    profile.save(update_fields=["paused_until", "pause_reason", "updated_at"])
    return profile


def supporter_set_capacity(
    *, user: User, profile: SupporterProfile, capacity: int
) -> SupporterProfile:
    """Change how many people the supporter takes at once. Current pairings carry on."""
    _require_self_or_manager(user=user, profile=profile)
    if not 1 <= capacity <= MAX_CAPACITY:
        raise MatchingError(
            _("You can support between 1 and %(max)d people at once.") % {"max": MAX_CAPACITY}
        )
    profile.capacity = capacity
    profile.save(update_fields=["capacity", "updated_at"])
    return profile
