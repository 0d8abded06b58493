"""Matching runs, coordinator review of proposals, pair rules and settings."""

from __future__ import annotations

import datetime
import logging
import time

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from peersupport.enqueue import after_commit
from programmes.models import Enrolment, Programme

from .. import solver
from ..models import (
    BuddyRequest,
    MatchRun,
    MatchSettings,
    Pairing,
    PairRule,
    Proposal,
    SupporterProfile,
)
from .common import IllegalTransition, MatchingError, RunAlreadyActive, require_manager
from .pairings import pairing_create, supporter_free_places

logger = logging.getLogger(__name__)

# A run still queued or running after this long was lost (a worker died): it no longer blocks.
STALE_AFTER = datetime.timedelta(minutes=30)


def match_settings_update(*, coordinator: User, programme: Programme, **fields) -> MatchSettings:
    """Change a programme's matching weights and rules."""
    require_manager(user=coordinator, programme=programme)
    settings = solver.settings_for(programme)
    allowed = {
        *MatchSettings.WEIGHT_FIELDS,
        "max_distance_km",
        "allow_contact_sharing",
        "no_contact_days",
    }
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(f"unknown setting {name}")
        setattr(settings, name, value)
    settings.updated_by = coordinator
    settings.full_clean(exclude=["programme"])
    settings.save()
    return settings


def _expire_stale_runs(programme: Programme) -> None:
    cutoff = timezone.now() - STALE_AFTER
    MatchRun.objects.filter(
        programme=programme, status__in=MatchRun.ACTIVE_STATUSES, created_at__lt=cutoff
    ).update(
        status=MatchRun.Status.FAILED,
        error="The run stopped without finishing.",
        finished_at=timezone.now(),
    )


def match_run_start(*, coordinator: User, programme: Programme) -> MatchRun:
    """Queue a matching run for the programme; the worker runs it. One at a time per programme."""
    require_manager(user=coordinator, programme=programme)
    _expire_stale_runs(programme)
    parameters = solver.settings_for(programme).parameters()
    try:
        with transaction.atomic():
            run = MatchRun.objects.create(
                programme=programme, started_by=coordinator, parameters=parameters
            )
    except IntegrityError as exc:
        raise RunAlreadyActive(
            _("A matching run is already going for this programme. Please wait for it to finish.")
        ) from exc
    from ..tasks import match_run_execute

    after_commit(match_run_execute, run.pk, on_failure=lambda: _not_started(run.pk))
    logger.info("matching.run_queued", extra={"run_id": run.pk, "programme_id": programme.pk})
    return run


def _not_started(run_id: int) -> None:
    MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.QUEUED).update(
        status=MatchRun.Status.FAILED,
        error=_(
            "The run could not be handed to the background worker (it could not be "
            "reached). Nothing was changed. Please start the run again in a few minutes."
        ),
        finished_at=timezone.now(),
    )


def _progress(run_id: int, percent: int) -> None:
    MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.RUNNING).update(progress=percent)


def match_run_execute(*, run_id: int) -> None:
    """Do a queued run: claim it, read the programme, solve, and store proposals and reasons.

    Claiming is a conditional update, so a second delivery of the same task does nothing.
    """
    claimed = MatchRun.objects.filter(pk=run_id, status=MatchRun.Status.QUEUED).update(
        status=MatchRun.Status.RUNNING, started_at=timezone.now(), progress=5
    )
    if not claimed:
        return
    run = MatchRun.objects.select_related("programme").get(pk=run_id)
    started = time.monotonic()
    try:
        data = solver.build_input(run.programme, run.parameters)
        _progress(run_id, 20)
        MatchRun.objects.filter(pk=run_id).update(
            recipients_count=len(data.recipients), supporters_count=len(data.supporters)
        )
        output = solver.solve(data, progress=lambda p: _progress(run_id, p))
        with transaction.atomic():
            created = _store_proposals(run, output.proposals)
            MatchRun.objects.filter(pk=run_id).update(
                status=MatchRun.Status.DONE,
                progress=100,
                proposals_count=created,
                unmatched_count=len(output.unmatched),
                unmatched=output.unmatched,
                finished_at=timezone.now(),
                duration_ms=int((time.monotonic() - started) * 1000),
            )
    except Exception as exc:
        logger.exception("matching.run_failed", extra={"run_id": run_id})
        MatchRun.objects.filter(pk=run_id).update(
            status=MatchRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        return
    logger.info("matching.run_done", extra={"run_id": run_id, "proposals": created})


def _store_proposals(run: MatchRun, proposals: list[dict]) -> int:
    created = 0
    for item in proposals:
        try:
            with transaction.atomic():
                Proposal.objects.create(
                    run=run,
                    request_id=item["request_id"],
                    supporter_id=item["supporter_id"],
                    score=item["score"],
                    pinned=item["pinned"],
                    breakdown=item["breakdown"],
                )
        except IntegrityError:
            # Someone paired or proposed this person while the run was going: skip them.
            continue
        created += 1
    return created


@transaction.atomic
def proposal_approve(*, coordinator: User, proposal: Proposal) -> Pairing:
    """Approve a proposal: it becomes a pairing waiting to be introduced."""
    proposal = (
        Proposal.objects.select_for_update().select_related("run__programme").get(pk=proposal.pk)
    )
    require_manager(user=coordinator, programme=proposal.run.programme)
    if proposal.status != Proposal.Status.PROPOSED:
        raise IllegalTransition(_("This proposal has already been decided."))
    supporter = SupporterProfile.objects.select_related("enrolment").get(pk=proposal.supporter_id)
    if supporter.enrolment.status != Enrolment.Status.ACTIVE:
        raise MatchingError(_("This supporter is no longer approved."))
    if supporter_free_places(supporter, ignore_proposal=proposal) <= 0:
        raise MatchingError(_("This supporter has no free place now."))
    proposal.status = Proposal.Status.APPROVED
    proposal.decided_by = coordinator
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    return pairing_create(
        coordinator=coordinator, request=proposal.request, supporter=supporter, proposal=proposal
    )


@transaction.atomic
def proposal_reject(*, coordinator: User, proposal: Proposal, reason: str) -> Proposal:
    """Reject a proposal with a reason. The pair is not proposed again."""
    proposal = (
        Proposal.objects.select_for_update().select_related("run__programme").get(pk=proposal.pk)
    )
    require_manager(user=coordinator, programme=proposal.run.programme)
    if proposal.status != Proposal.Status.PROPOSED:
        raise IllegalTransition(_("This proposal has already been decided."))
    if not reason.strip():
        raise MatchingError(_("Please give a reason."))
    proposal.status = Proposal.Status.REJECTED
    proposal.reject_reason = reason.strip()[:300]
    proposal.decided_by = coordinator
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "reject_reason", "decided_by", "decided_at"])
    return proposal


def pair_rule_set(
    *,
    coordinator: User,
    programme: Programme,
    recipient: Enrolment,
    supporter: SupporterProfile,
    kind: str,
    reason: str = "",
) -> PairRule:
    """Pin a pair (the next run must pair them if it can) or forbid it (never pair them)."""
    require_manager(user=coordinator, programme=programme)
    if recipient.programme_id != programme.pk or supporter.enrolment.programme_id != programme.pk:
        raise PermissionDenied
    if kind not in PairRule.Kind.values:
        raise MatchingError(_("Please choose pin or forbid."))
    if kind == PairRule.Kind.FORBID and not reason.strip():
        raise MatchingError(_("Please give a reason."))
    rule, _created = PairRule.objects.update_or_create(
        recipient=recipient,
        supporter=supporter,
        defaults={
            "programme": programme,
            "kind": kind,
            "reason": reason.strip()[:300],
            "created_by": coordinator,
        },
    )
    if kind == PairRule.Kind.FORBID:
        Proposal.objects.filter(
            request__enrolment=recipient, supporter=supporter, status=Proposal.Status.PROPOSED
        ).update(
            status=Proposal.Status.REJECTED,
            reject_reason=rule.reason,
            decided_by=coordinator,
            decided_at=timezone.now(),
        )
    return rule


def pair_rule_delete(*, coordinator: User, rule: PairRule) -> None:
    require_manager(user=coordinator, programme=rule.programme)
    rule.delete()


@transaction.atomic
def pairing_create_by_hand(
    *, coordinator: User, request: BuddyRequest, supporter: SupporterProfile
) -> Pairing:
    """Pair two people by hand. The supporter must be approved, trained, free and not paused."""
    programme = request.enrolment.programme
    require_manager(user=coordinator, programme=programme)
    if supporter.enrolment.programme_id != programme.pk:
        raise PermissionDenied
    if supporter.enrolment.status != Enrolment.Status.ACTIVE:
        raise MatchingError(_("This supporter is not approved yet."))
    if supporter.is_paused():
        raise MatchingError(_("This supporter is taking a break."))
    from .onboarding import training_missing

    if training_missing(supporter):
        raise MatchingError(_("This supporter has training to finish first."))
    if supporter_free_places(supporter) <= 0:
        raise MatchingError(_("This supporter has no free place."))
    if request.proposals.filter(status=Proposal.Status.PROPOSED).exists():
        raise MatchingError(
            _("This person has a proposal waiting for review. Approve or reject it first.")
        )
    return pairing_create(coordinator=coordinator, request=request, supporter=supporter)
