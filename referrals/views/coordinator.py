"""Coordinators: referring practices and clinicians, a referral inbox per programme, triage."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import coordinator_required
from peersupport.choices import choice_labels
from peersupport.pagecache import cached_page
from peersupport.urlpattern import pk_url
from programmes.models import Organisation, Programme

from .. import services
from ..forms import (
    ClinicianInviteForm,
    NoteForm,
    PracticeForm,
    ReferralFilterForm,
    TriageForm,
)
from ..invitations import messages_of, problems_by_referral
from ..models import Clinician, ClinicianInvitation, Practice, Referral, ReferralLink

PAGE_SIZE = 25


@coordinator_required
def practice_list(request):
    """Referring practices of the coordinator's organisations, with their clinicians."""
    practices = (
        Practice.objects.managed_by(request.user)
        .select_related("organisation")
        .prefetch_related(
            Prefetch(
                "clinicians",
                queryset=Clinician.objects.select_related("user").order_by(
                    "status", "user__display_name"
                ),
            ),
            Prefetch(
                "invitations",
                queryset=ClinicianInvitation.objects.filter(
                    accepted_at__isnull=True, revoked_at__isnull=True
                ),
                to_attr="open_invitations",
            ),
        )
        .annotate(referral_count=Count("referrals"))
        .order_by("name")
    )
    pending = (
        Clinician.objects.managed_by(request.user)
        .filter(status=Clinician.Status.PENDING)
        .select_related("user", "practice")
    )
    page = Paginator(practices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "referrals/practice_list.html", {"page": page, "pending": pending})


@coordinator_required
def practice_create(request):
    form = PracticeForm(
        request.POST if request.method == "POST" else None,
        organisations=Organisation.objects.managed_by(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.practice_create(
            coordinator=request.user,
            organisation=data["organisation"],
            name=data["name"],
            kind=data["kind"],
            area=data["area"],
        )
        messages.success(request, _("Practice added."))
        return redirect("referrals:practice_list")
    return render(request, "referrals/practice_form.html", {"form": form})


@coordinator_required
def practice_invite(request, pk):
    """Invite a clinician by e-mail to refer for this practice."""
    practice = get_object_or_404(Practice.objects.managed_by(request.user), pk=pk)
    form = ClinicianInviteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.clinician_invitation_create(
            coordinator=request.user, practice=practice, email=form.cleaned_data["email"]
        )
        messages.success(
            request,
            _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]},
        )
        return redirect("referrals:practice_list")
    return render(request, "referrals/practice_invite.html", {"form": form, "practice": practice})


@coordinator_required
@require_POST
def clinician_status(request, pk):
    clinician = get_object_or_404(
        Clinician.objects.managed_by(request.user).select_related("practice", "user"), pk=pk
    )
    try:
        services.clinician_set_status(
            coordinator=request.user, clinician=clinician, status=request.POST.get("status", "")
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            _("%(name)s is now %(status)s.")
            % {
                "name": clinician.user.display_name,
                "status": clinician.get_status_display().lower(),
            },
        )
    return redirect("referrals:practice_list")


def _managed_programme(request, pk) -> Programme:
    return get_object_or_404(
        Programme.objects.managed_by(request.user).select_related("organisation"), pk=pk
    )


@coordinator_required
@cached_page
def inbox(request, pk):
    """Referrals to one programme: newest first, filtered by status, triage and source."""
    programme = _managed_programme(request, pk)
    practices = Practice.objects.filter(organisation_id=programme.organisation_id).order_by("name")
    links = ReferralLink.objects.filter(programme=programme).order_by("label")
    form = ReferralFilterForm(request.GET or None, practices=practices, links=links)
    referrals = (
        Referral.objects.managed_by(request.user)
        .filter(programme=programme)
        .select_related("practice", "link", "clinician__user", "user")
        .order_by("-created_at")
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            referrals = referrals.filter(status=data["status"])
        if data["triage"]:
            referrals = referrals.filter(triage=data["triage"])
        if data["source"]:
            kind, _sep, source_id = data["source"].partition(":")
            referrals = referrals.filter(**{f"{kind}_id": int(source_id)})
    counts = Referral.objects.filter(programme=programme).aggregate(
        new=Count("pk", filter=Q(triage="new")),
        total=Count("pk"),
    )
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    # Labels translated and the detail address reversed once per page, not once per row.
    statuses, triages = choice_labels(Referral.Status), choice_labels(Referral.Triage)
    detail_url = pk_url("referrals:referral_detail")
    problems = problems_by_referral(
        [r.pk for r in page.object_list if r.kind == Referral.Kind.NAMED]
    )
    for referral in page.object_list:
        referral.detail_url = detail_url(referral.pk)
        referral.problems = problems.get(referral.pk, [])
        referral.status_label = statuses.get(referral.status, referral.status)
        referral.triage_label = triages.get(referral.triage, referral.triage)
    return render(
        request,
        "referrals/inbox.html",
        {"programme": programme, "form": form, "page": page, "counts": counts},
    )


@coordinator_required
def sources(request, pk):
    """How many referrals each practice sent, month by month."""
    programme = _managed_programme(request, pk)
    table = services.referrals_by_practice_month(programme=programme, months=6)
    return render(request, "referrals/sources.html", {"programme": programme, "table": table})


def _managed_referral(request, pk) -> Referral:
    return get_object_or_404(
        Referral.objects.managed_by(request.user).select_related(
            "programme", "programme__organisation", "practice", "link", "clinician__user", "user"
        ),
        pk=pk,
    )


@coordinator_required
def referral_detail(request, pk):
    referral = _managed_referral(request, pk)
    notes = referral.notes.select_related("author")
    return render(
        request,
        "referrals/referral_detail.html",
        {
            "referral": referral,
            "programme": referral.programme,
            "notes": notes,
            "sent_messages": messages_of(referral) if referral.kind == Referral.Kind.NAMED else [],
            "note_form": NoteForm(),
            "triage_form": TriageForm(),
        },
    )


@coordinator_required
@require_POST
def referral_triage(request, pk):
    referral = _managed_referral(request, pk)
    form = TriageForm(request.POST)
    if form.is_valid():
        try:
            services.referral_triage(
                coordinator=request.user,
                referral=referral,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(
                request,
                _("Referral updated: %(triage)s.") % {"triage": referral.get_triage_display()},
            )
    else:
        messages.error(request, _("Please choose an action."))
    return redirect("referrals:referral_detail", pk=referral.pk)


@coordinator_required
@require_POST
def referral_note(request, pk):
    referral = _managed_referral(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.referral_note_add(
            coordinator=request.user, referral=referral, text=form.cleaned_data["text"]
        )
        messages.success(request, _("Note added."))
    else:
        messages.error(request, _("Please write a note."))
    return redirect("referrals:referral_detail", pk=referral.pk)


@coordinator_required
def manage_links(request, pk):
    """A programme's referral links, with visits, sign-ups and enrolments."""
    programme = _managed_programme(request, pk)
    links = (
        ReferralLink.objects.managed_by(request.user)
        .filter(programme=programme)
        .select_related("practice", "clinician__user")
        .with_counts()
        .order_by("-created_at")
    )
    return render(request, "referrals/manage_links.html", {"programme": programme, "links": links})
