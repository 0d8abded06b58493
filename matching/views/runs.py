"""Coordinator pages for matching runs, proposals, pair rules, hand pairing and settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import coordinator_required

from .. import reasons, solver
from ..forms import HandPairForm, MatchSettingsForm, PairRuleForm, ReasonForm
from ..models import BuddyRequest, MatchRun, PairRule, Proposal, SupporterProfile
from ..services import runs as services
from .common import managed_programme, report


@coordinator_required
def manage_programme(request, pk):
    """Buddy matching for one programme: who is waiting, who can support, and the runs."""
    programme = managed_programme(request, pk)
    counts = BuddyRequest.objects.filter(enrolment__programme=programme).aggregate(
        waiting=Count("pk", filter=Q(status="waiting")),
        paired=Count("pk", filter=Q(status="paired")),
    )
    supporters = SupporterProfile.objects.filter(enrolment__programme=programme).aggregate(
        approved=Count("pk", filter=Q(enrolment__status="active")),
        applied=Count("pk", filter=Q(enrolment__status="applied")),
    )
    runs = programme.match_runs.select_related("started_by")[:10]
    active_run = next((run for run in runs if run.is_active), None)
    return render(
        request,
        "matching/manage_programme.html",
        {
            "programme": programme,
            "counts": counts,
            "supporters": supporters,
            "runs": runs,
            "active_run": active_run,
            "ready": solver.eligible_requests(programme).count(),
        },
    )


@coordinator_required
def manage_settings(request, pk):
    """Per-programme weights and rules, with the engine's defaults."""
    programme = managed_programme(request, pk)
    settings = solver.settings_for(programme)
    form = MatchSettingsForm(request.POST if request.method == "POST" else None, instance=settings)
    if request.method == "POST" and form.is_valid():
        try:
            services.match_settings_update(
                coordinator=request.user, programme=programme, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Settings saved. The next run will use them."))
            return redirect("matching:manage_programme", pk=programme.pk)
    return render(request, "matching/manage_settings.html", {"programme": programme, "form": form})


@coordinator_required
@require_POST
def run_start(request, pk):
    programme = managed_programme(request, pk)
    try:
        run = services.match_run_start(coordinator=request.user, programme=programme)
    except ValidationError as error:
        report(request, error)
        return redirect("matching:manage_programme", pk=programme.pk)
    messages.success(request, _("Matching has started. This page shows how it is going."))
    return redirect("matching:manage_run", pk=run.pk)


def _managed_run(request, pk) -> MatchRun:
    return get_object_or_404(
        MatchRun.objects.managed_by(request.user).select_related("programme", "started_by"), pk=pk
    )


def _run_context(run: MatchRun) -> dict:
    proposals = (
        run.proposals.select_related(
            "request__enrolment__user", "supporter__enrolment__user", "decided_by"
        ).order_by("status", "-score", "pk")
        if run.status == MatchRun.Status.DONE
        else Proposal.objects.none()
    )
    unmatched = []
    if run.unmatched:
        requests = {
            r.pk: r
            for r in BuddyRequest.objects.filter(
                pk__in=[u["request_id"] for u in run.unmatched]
            ).select_related("enrolment__user")
        }
        for item in run.unmatched:
            req = requests.get(item["request_id"])
            if req is None:
                continue
            unmatched.append(
                {
                    "request": req,
                    "supporters": item.get("supporters", 0),
                    "reasons": [
                        {"count": r["count"], "label": reasons.unmatched_reason(r["code"])}
                        for r in item.get("reasons", [])
                    ],
                    "pin_problem": [reasons.pin_problem(c) for c in item.get("pin_problem", [])],
                }
            )
    return {"run": run, "proposals": proposals, "unmatched": unmatched, "reject_form": ReasonForm()}


@coordinator_required
def manage_run(request, pk):
    """A run: progress while it goes, then the proposals to review and who got nobody, and why."""
    run = _managed_run(request, pk)
    return render(
        request, "matching/manage_run.html", {**_run_context(run), "programme": run.programme}
    )


@coordinator_required
def run_progress(request, pk):
    """The progress panel, polled by htmx until the run finishes."""
    run = _managed_run(request, pk)
    response = render(request, "matching/_run_progress.html", {"run": run})
    if not run.is_active and request.htmx:
        # Reload the whole page once, to show the proposals.
        response["HX-Refresh"] = "true"
    return response


def _managed_proposal(request, pk) -> Proposal:
    return get_object_or_404(
        Proposal.objects.managed_by(request.user).select_related("run", "request"), pk=pk
    )


@coordinator_required
@require_POST
def proposal_approve(request, pk):
    proposal = _managed_proposal(request, pk)
    try:
        services.proposal_approve(coordinator=request.user, proposal=proposal)
    except ValidationError as error:
        report(request, error)
    else:
        messages.success(request, _("Approved. You can now introduce them to each other."))
    return redirect("matching:manage_run", pk=proposal.run_id)


@coordinator_required
@require_POST
def proposal_reject(request, pk):
    proposal = _managed_proposal(request, pk)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Please give a reason."))
        services.proposal_reject(
            coordinator=request.user, proposal=proposal, reason=form.cleaned_data["reason"]
        )
    except ValidationError as error:
        report(request, error)
    else:
        messages.success(request, _("Rejected. They will not be proposed together again."))
    return redirect("matching:manage_run", pk=proposal.run_id)


def _people(programme):
    recipients = (
        programme.enrolments.recipients()
        .active()
        .select_related("user")
        .order_by("user__display_name")
    )
    supporters = (
        SupporterProfile.objects.filter(enrolment__programme=programme)
        .approved()
        .select_related("enrolment__user")
        .order_by("enrolment__user__display_name")
    )
    return recipients, supporters


@coordinator_required
def manage_rules(request, pk):
    """Pin or forbid pairs for the next runs."""
    programme = managed_programme(request, pk)
    recipients, supporters = _people(programme)
    form = PairRuleForm(
        request.POST if request.method == "POST" else None,
        recipients=recipients,
        supporters=supporters,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.pair_rule_set(
                coordinator=request.user, programme=programme, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Rule saved."))
            return redirect("matching:manage_rules", pk=programme.pk)
    rules = PairRule.objects.filter(programme=programme).select_related(
        "recipient__user", "supporter__enrolment__user", "created_by"
    )
    return render(
        request,
        "matching/manage_rules.html",
        {"programme": programme, "form": form, "rules": rules},
    )


@coordinator_required
@require_POST
def rule_delete(request, pk):
    rule = get_object_or_404(
        PairRule.objects.filter(programme__in=_managed_programmes(request.user)), pk=pk
    )
    services.pair_rule_delete(coordinator=request.user, rule=rule)
    messages.success(request, _("Rule removed."))
    return redirect("matching:manage_rules", pk=rule.programme_id)


def _managed_programmes(user):
    from programmes.models import Programme

    return Programme.objects.managed_by(user).values("pk")


@coordinator_required
def manage_pair(request, pk):
    """Pair two people by hand."""
    programme = managed_programme(request, pk)
    _recipients, supporters = _people(programme)
    requests = (
        solver.eligible_requests(programme)
        .select_related("enrolment__user")
        .order_by("enrolment__user__display_name")
    )
    initial = {}
    if request.GET.get("request"):
        initial["request"] = request.GET["request"]
    form = HandPairForm(
        request.POST if request.method == "POST" else None,
        requests=requests,
        supporters=supporters,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.pairing_create_by_hand(coordinator=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Paired. You can now introduce them to each other."))
            return redirect("matching:manage_pairings", pk=programme.pk)
    return render(request, "matching/manage_pair.html", {"programme": programme, "form": form})
