"""Supporter profiles and buddy requests: the member's pages and the coordinator's."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import coordinator_required
from programmes.models import Enrolment

from ..forms import (
    BuddyRequestForm,
    CapacityForm,
    PauseForm,
    ReasonForm,
    ScreeningStepForm,
    SupporterProfileForm,
    TrainingModuleForm,
    TrainingRecordForm,
)
from ..models import BuddyRequest, Pairing, SupporterProfile, TrainingCompletion
from ..services import onboarding as services
from ..services import requests as request_services
from .common import managed_programme, report

PAGE_SIZE = 25


# --- Member pages -------------------------------------------------------------------------


@login_required
def supporter_profile(request, enrolment_pk):
    """A supporter fills in (or changes) what they offer."""
    enrolment = get_object_or_404(
        Enrolment.objects.filter(user=request.user, role=Enrolment.Role.SUPPORTER)
        .current()
        .select_related("programme"),
        pk=enrolment_pk,
    )
    profile = SupporterProfile.objects.filter(enrolment=enrolment).first()
    form = SupporterProfileForm(request.POST if request.method == "POST" else None)
    if profile is not None and request.method != "POST":
        form.initial_from(profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.supporter_profile_save(
                user=request.user, enrolment=enrolment, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Thank you. Your details are saved.")
                if profile
                else _("Thank you. A coordinator will be in touch to arrange a chat."),
            )
            return redirect("programmes:mine")
    return render(
        request,
        "matching/supporter_profile.html",
        {"form": form, "enrolment": enrolment, "profile": profile},
    )


@login_required
def supporter_availability(request, enrolment_pk):
    """A supporter pauses (holiday, illness), carries on, or changes how many people they take."""
    profile = get_object_or_404(
        SupporterProfile.objects.filter(enrolment__user=request.user).select_related(
            "enrolment__programme"
        ),
        enrolment_id=enrolment_pk,
    )
    pause_form = PauseForm(request.POST if request.POST.get("action") == "pause" else None)
    capacity_form = CapacityForm(
        request.POST if request.POST.get("action") == "capacity" else None,
        initial={"capacity": profile.capacity},
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "pause" and pause_form.is_valid():
                services.supporter_pause(
                    user=request.user, profile=profile, **pause_form.cleaned_data
                )
                messages.success(
                    request, _("You are on a break. We will not match you until then.")
                )
                return redirect(request.path)
            if action == "resume":
                services.supporter_resume(user=request.user, profile=profile)
                messages.success(request, _("Welcome back. You can be matched again."))
                return redirect(request.path)
            if action == "capacity" and capacity_form.is_valid():
                services.supporter_set_capacity(
                    user=request.user,
                    profile=profile,
                    capacity=capacity_form.cleaned_data["capacity"],
                )
                messages.success(request, _("Saved."))
                return redirect(request.path)
        except ValidationError as error:
            report(request, error)
    return render(
        request,
        "matching/supporter_availability.html",
        {"profile": profile, "pause_form": pause_form, "capacity_form": capacity_form},
    )


@login_required
def request_buddy(request, enrolment_pk):
    """A member asks for a buddy: a short form that works on a phone."""
    enrolment = get_object_or_404(
        Enrolment.objects.filter(user=request.user)
        .recipients()
        .active()
        .select_related("programme"),
        pk=enrolment_pk,
    )
    current = BuddyRequest.objects.filter(enrolment=enrolment).open().first()
    form = BuddyRequestForm(
        request.POST if request.method == "POST" else None, initial={"languages": ["en"]}
    )
    if current is not None and request.method != "POST":
        form.initial_from(current)
    if request.method == "POST" and form.is_valid():
        try:
            if current is None:
                request_services.buddy_request_create(
                    actor=request.user, enrolment=enrolment, **form.cleaned_data
                )
            else:
                request_services.buddy_request_update(
                    actor=request.user, request=current, **form.cleaned_data
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Thank you. We will look for a buddy for you and let you know."),
            )
            return redirect("programmes:mine")
    return render(
        request,
        "matching/request_form.html",
        {"form": form, "enrolment": enrolment, "current": current, "assisted": False},
    )


@login_required
@require_POST
def request_withdraw(request, pk):
    buddy_request = get_object_or_404(
        BuddyRequest.objects.filter(enrolment__user=request.user), pk=pk
    )
    try:
        request_services.buddy_request_withdraw(actor=request.user, request=buddy_request)
    except ValidationError as error:
        report(request, error)
    else:
        messages.success(request, _("You are no longer waiting for a buddy."))
    return redirect("programmes:mine")


# --- Coordinator pages --------------------------------------------------------------------


@coordinator_required
def manage_supporters(request, pk):
    """A programme's supporters and applicants, with their screening and training state."""
    programme = managed_programme(request, pk)
    status = request.GET.get("status", "")
    enrolments = (
        programme.enrolments.supporters()
        .select_related("user", "supporter_profile")
        .order_by("status", "user__display_name")
    )
    if status in Enrolment.Status.values:
        enrolments = enrolments.filter(status=status)
    page = Paginator(enrolments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "matching/manage_supporters.html",
        {
            "programme": programme,
            "page": page,
            "status": status,
            "statuses": Enrolment.Status.choices,
        },
    )


def _managed_profile(request, pk) -> SupporterProfile:
    return get_object_or_404(
        SupporterProfile.objects.managed_by(request.user).select_related(
            "enrolment__user", "enrolment__programme__organisation"
        ),
        pk=pk,
    )


@coordinator_required
def manage_supporter(request, pk):
    """One supporter: profile, screening steps, training, approval, pause and capacity."""
    profile = _managed_profile(request, pk)
    programme = profile.enrolment.programme
    completions = {
        c.module_id: c
        for c in TrainingCompletion.objects.filter(profile=profile).select_related("module")
    }
    today = timezone.localdate()
    modules = [
        {
            "module": module,
            "completion": completions.get(module.pk),
            "current": module.pk in completions and completions[module.pk].is_current(today),
        }
        for module in programme.training_modules.filter(is_active=True)
    ]
    pairings = profile.pairings.select_related("recipient__user").order_by("-created_at")[:20]
    return render(
        request,
        "matching/manage_supporter.html",
        {
            "profile": profile,
            "programme": programme,
            "steps": profile.steps.select_related("recorded_by"),
            "modules": modules,
            "pairings": pairings,
            "screening_missing": services.screening_missing(profile),
            "training_missing": services.training_missing(profile),
            "step_form": ScreeningStepForm(initial={"done_on": today}),
            "training_form": TrainingRecordForm(programme=programme),
            "decline_form": ReasonForm(),
            "pause_form": PauseForm(),
            "capacity_form": CapacityForm(initial={"capacity": profile.capacity}),
        },
    )


@coordinator_required
@require_POST
def manage_supporter_action(request, pk, action):
    """The coordinator's actions on one supporter; each is a service call."""
    profile = _managed_profile(request, pk)
    programme = profile.enrolment.programme
    try:
        if action == "step":
            form = ScreeningStepForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Please fill in the step, date and outcome."))
            services.screening_step_record(
                coordinator=request.user, profile=profile, **form.cleaned_data
            )
            messages.success(request, _("Step recorded."))
        elif action == "training":
            form = TrainingRecordForm(request.POST, programme=programme)
            if not form.is_valid():
                raise ValidationError(_("Please choose a module and a date."))
            services.training_record(coordinator=request.user, profile=profile, **form.cleaned_data)
            messages.success(request, _("Training recorded."))
        elif action == "approve":
            services.supporter_approve(coordinator=request.user, profile=profile)
            messages.success(request, _("Approved. They can now be matched once training is done."))
        elif action == "decline":
            form = ReasonForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Please give a reason."))
            services.supporter_decline(
                coordinator=request.user, profile=profile, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("Application declined."))
        elif action == "pause":
            form = PauseForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Please choose a date."))
            services.supporter_pause(user=request.user, profile=profile, **form.cleaned_data)
            messages.success(request, _("Paused."))
        elif action == "resume":
            services.supporter_resume(user=request.user, profile=profile)
            messages.success(request, _("The pause has ended."))
        elif action == "capacity":
            form = CapacityForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Please give a number from 1 to 6."))
            services.supporter_set_capacity(
                user=request.user, profile=profile, capacity=form.cleaned_data["capacity"]
            )
            messages.success(request, _("Saved."))
        else:
            return redirect("matching:manage_supporter", pk=profile.pk)
    except ValidationError as error:
        report(request, error)
    return redirect("matching:manage_supporter", pk=profile.pk)


@coordinator_required
def manage_training(request, pk):
    """The training modules of a programme; add one."""
    programme = managed_programme(request, pk)
    form = TrainingModuleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.training_module_create(
                coordinator=request.user, programme=programme, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Module added."))
            return redirect("matching:manage_training", pk=programme.pk)
    return render(
        request,
        "matching/manage_training.html",
        {"programme": programme, "modules": programme.training_modules.all(), "form": form},
    )


@coordinator_required
def manage_requests(request, pk):
    """Members waiting for a buddy, and members who have not asked (a coordinator can help)."""
    programme = managed_programme(request, pk)
    requests = (
        BuddyRequest.objects.filter(enrolment__programme=programme)
        .open()
        .select_related("enrolment__user", "assisted_by")
        .prefetch_related(
            Prefetch(
                "pairings",
                queryset=Pairing.objects.live().select_related("supporter__enrolment__user"),
                to_attr="live_pairings",
            )
        )
        .order_by("-priority", "waiting_since")
    )
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    without = (
        programme.enrolments.recipients()
        .active()
        .exclude(Exists(BuddyRequest.objects.open().filter(enrolment=OuterRef("pk"))))
        .select_related("user")
        .order_by("user__display_name")
    )
    return render(
        request,
        "matching/manage_requests.html",
        {"programme": programme, "page": page, "without": without[:50], "now": timezone.now()},
    )


@coordinator_required
def manage_request_new(request, pk, enrolment_pk):
    """A coordinator fills in a buddy request for someone (recorded as assisted)."""
    programme = managed_programme(request, pk)
    enrolment = get_object_or_404(
        programme.enrolments.recipients().active().select_related("user"), pk=enrolment_pk
    )
    form = BuddyRequestForm(
        request.POST if request.method == "POST" else None, initial={"languages": ["en"]}
    )
    if request.method == "POST" and form.is_valid():
        try:
            request_services.buddy_request_create(
                actor=request.user, enrolment=enrolment, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Request saved for %(name)s.") % {"name": enrolment.user.display_name}
            )
            return redirect("matching:manage_requests", pk=programme.pk)
    return render(
        request,
        "matching/request_form.html",
        {"form": form, "enrolment": enrolment, "programme": programme, "assisted": True},
    )
