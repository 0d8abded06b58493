"""Pairing pages: the two people's shared page, and the coordinator's supervision pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import coordinator_required

from .. import solver
from ..forms import (
    AcceptForm,
    CheckInForm,
    ConcernForm,
    ContactLogForm,
    EndForm,
    MessageForm,
    ReasonForm,
    ResolveForm,
)
from ..models import Concern, ContactLog, Pairing
from ..services import ContactDetailsHeldBack
from ..services import pairings as services
from .common import managed_programme, report

PAGE_SIZE = 25
MESSAGES_SHOWN = 50


def _my_pairing(request, pk) -> Pairing:
    return get_object_or_404(
        # A proposed pairing is not shown to the two people until the coordinator introduces them.
        Pairing.objects.of_member(request.user)
        .exclude(status=Pairing.Status.PROPOSED)
        .select_related("programme", "recipient__user", "supporter__enrolment__user", "request"),
        pk=pk,
    )


@login_required
def my_pairings(request):
    """The buddies a person has, as a member or as a supporter."""
    pairings = (
        Pairing.objects.of_member(request.user)
        .exclude(status=Pairing.Status.PROPOSED)
        .select_related("programme", "recipient__user", "supporter__enrolment__user")
        .order_by("status", "-created_at")
    )
    items = [
        {"pairing": p, "side": p.side_of(request.user), "other": p.other_user(request.user)}
        for p in pairings
    ]
    return render(request, "matching/my_pairings.html", {"items": items})


def _pairing_page(request, pairing: Pairing, **forms) -> dict:
    side = pairing.side_of(request.user)
    other = pairing.other_user(request.user)
    context = {
        "pairing": pairing,
        "side": side,
        "other": other,
        "other_profile": pairing.supporter if side == "recipient" else pairing.request,
        "accepted": pairing.has_accepted(side),
        "other_accepted": pairing.has_accepted("supporter" if side == "recipient" else "recipient"),
        "accept_form": forms.get("accept_form") or AcceptForm(),
        "message_form": forms.get("message_form") or MessageForm(),
        "checkin_form": forms.get("checkin_form") or CheckInForm(),
        "checkin_due": services.checkin_due(user=request.user, pairing=pairing),
        "can_message": pairing.status in (Pairing.Status.ACTIVE, Pairing.Status.PAUSED),
    }
    if context["can_message"] or pairing.status == Pairing.Status.ENDED:
        recent = list(
            pairing.messages.select_related("sender").order_by("-created_at", "-pk")[
                :MESSAGES_SHOWN
            ]
        )
        context["messages_list"] = list(reversed(recent))
    if side == "supporter":
        context["contact_logs"] = pairing.contact_logs.all()[:10]
    return context


@login_required
def pairing(request, pk):
    """The pairing page: introduction and agreement, then messages and what to do next."""
    pairing = _my_pairing(request, pk)
    services.messages_mark_read(user=request.user, pairing=pairing)
    return render(request, "matching/pairing.html", _pairing_page(request, pairing))


@login_required
@require_POST
def pairing_action(request, pk, action):
    """Accept, decline, pause, carry on, or answer 'how is it going?'."""
    pairing = _my_pairing(request, pk)
    try:
        if action == "accept":
            form = AcceptForm(request.POST)
            if not form.is_valid():
                return render(
                    request,
                    "matching/pairing.html",
                    _pairing_page(request, pairing, accept_form=form),
                )
            pairing = services.pairing_accept(user=request.user, pairing=pairing, agreed=True)
            if pairing.status == Pairing.Status.ACTIVE:
                messages.success(request, _("You have both said yes. You can now send messages."))
            else:
                messages.success(
                    request, _("Thank you. We are waiting for the other person to say yes.")
                )
        elif action == "decline":
            services.pairing_decline(
                user=request.user, pairing=pairing, reason=request.POST.get("reason", "")
            )
            messages.success(
                request, _("Thank you for letting us know. The coordinator will be in touch.")
            )
            return redirect("matching:my_pairings")
        elif action == "pause":
            services.pairing_pause(
                user=request.user, pairing=pairing, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("The pairing is paused. You can carry on at any time."))
        elif action == "resume":
            services.pairing_resume(user=request.user, pairing=pairing)
            messages.success(request, _("Welcome back."))
        elif action == "checkin":
            form = CheckInForm(request.POST)
            if not form.is_valid():
                return render(
                    request,
                    "matching/pairing.html",
                    _pairing_page(request, pairing, checkin_form=form),
                )
            services.checkin_record(user=request.user, pairing=pairing, **form.cleaned_data)
            messages.success(request, _("Thank you for telling us."))
    except ValidationError as error:
        report(request, error)
    return redirect("matching:pairing", pk=pairing.pk)


@login_required
@require_POST
def pairing_message(request, pk):
    """Send a message. A message with contact details is held back, with the reason."""
    pairing = _my_pairing(request, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.message_send(
                user=request.user, pairing=pairing, body=form.cleaned_data["body"]
            )
        except ContactDetailsHeldBack as error:
            form.add_error("body", error.messages[0])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Message sent."))
            return redirect(f"{pairing_url(pairing)}#messages")
    return render(
        request, "matching/pairing.html", _pairing_page(request, pairing, message_form=form)
    )


def pairing_url(pairing: Pairing) -> str:
    from django.urls import reverse

    return reverse("matching:pairing", kwargs={"pk": pairing.pk})


@login_required
def pairing_contact(request, pk):
    """The supporter logs a conversation."""
    pairing = _my_pairing(request, pk)
    if pairing.side_of(request.user) != "supporter":
        raise PermissionDenied
    form = ContactLogForm(
        request.POST if request.method == "POST" else None,
        initial={"contact_on": timezone.localdate(), "minutes": 30},
    )
    if request.method == "POST" and form.is_valid():
        try:
            log = services.contact_log_create(
                user=request.user, pairing=pairing, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if log.needs_support:
                messages.success(
                    request, _("Saved. A coordinator will get in touch with you soon.")
                )
            else:
                messages.success(request, _("Saved. Thank you."))
            return redirect("matching:pairing", pk=pairing.pk)
    return render(request, "matching/pairing_contact.html", {"pairing": pairing, "form": form})


@login_required
def pairing_concern(request, pk):
    """Either person tells the coordinator about a worry."""
    pairing = _my_pairing(request, pk)
    form = ConcernForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.concern_report(
                user=request.user, pairing=pairing, text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Thank you. The coordinator has been told and will contact you.")
            )
            return redirect("matching:pairing", pk=pairing.pk)
    return render(request, "matching/pairing_concern.html", {"pairing": pairing, "form": form})


@login_required
def pairing_end(request, pk):
    """Either person ends the pairing: finished as planned, or stopping early."""
    pairing = _my_pairing(request, pk)
    form = EndForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.pairing_end(user=request.user, pairing=pairing, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The pairing has ended. Thank you for taking part."))
            return redirect("matching:my_pairings")
    return render(request, "matching/pairing_end.html", {"pairing": pairing, "form": form})


# --- Coordinator pages --------------------------------------------------------------------


@coordinator_required
def manage_pairings(request, pk):
    """A programme's pairings, with flags, and those with no contact for a while."""
    programme = managed_programme(request, pk)
    settings = solver.settings_for(programme)
    show = request.GET.get("show", "live")
    pairings = (
        Pairing.objects.filter(programme=programme)
        .with_flags()
        .select_related("recipient__user", "supporter__enrolment__user")
    )
    if show == "quiet":
        pairings = pairings.without_contact_for(settings.no_contact_days)
    elif show == "ended":
        pairings = pairings.filter(status=Pairing.Status.ENDED)
    elif show == "all":
        pass
    else:
        show = "live"
        pairings = pairings.live()
    pairings = pairings.order_by("-open_concerns", "-support_needed", "-poor_fit", "-created_at")
    page = Paginator(pairings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "matching/manage_pairings.html",
        {
            "programme": programme,
            "page": page,
            "show": show,
            "no_contact_days": settings.no_contact_days,
        },
    )


def _managed_pairing(request, pk) -> Pairing:
    return get_object_or_404(
        Pairing.objects.managed_by(request.user).select_related(
            "programme", "recipient__user", "supporter__enrolment__user", "request", "ended_by"
        ),
        pk=pk,
    )


@coordinator_required
def manage_pairing(request, pk):
    """One pairing for its coordinator: state, contact logs, check-ins and concerns."""
    pairing = _managed_pairing(request, pk)
    return render(
        request,
        "matching/manage_pairing.html",
        {
            "pairing": pairing,
            "programme": pairing.programme,
            "contact_logs": pairing.contact_logs.select_related("support_given_by"),
            "checkins": pairing.checkins.select_related("user"),
            "concerns": pairing.concerns.select_related("raised_by", "resolved_by"),
            "end_form": ReasonForm(),
            "resolve_form": ResolveForm(),
        },
    )


@coordinator_required
@require_POST
def manage_pairing_action(request, pk, action):
    pairing = _managed_pairing(request, pk)
    reason = request.POST.get("reason", "")
    try:
        if action == "introduce":
            services.pairing_introduce(coordinator=request.user, pairing=pairing)
            messages.success(request, _("Introduced. They have both been told."))
        elif action == "end":
            services.pairing_end(
                user=request.user,
                pairing=pairing,
                ending=request.POST.get("ending", ""),
                reason=reason,
            )
            messages.success(request, _("The pairing has ended."))
        elif action == "rematch":
            services.pairing_rematch(coordinator=request.user, pairing=pairing, reason=reason)
            messages.success(
                request, _("Ended. They are waiting for a new buddy, ahead of others.")
            )
        elif action == "pause":
            services.pairing_pause(user=request.user, pairing=pairing, reason=reason)
            messages.success(request, _("Paused."))
        elif action == "resume":
            services.pairing_resume(user=request.user, pairing=pairing)
            messages.success(request, _("Carrying on."))
    except ValidationError as error:
        report(request, error)
    return redirect("matching:manage_pairing", pk=pairing.pk)


@coordinator_required
@require_POST
def concern_resolve(request, pk):
    concern = get_object_or_404(
        Concern.objects.filter(pairing__in=Pairing.objects.managed_by(request.user)), pk=pk
    )
    try:
        services.concern_resolve(
            coordinator=request.user, concern=concern, resolution=request.POST.get("resolution", "")
        )
    except ValidationError as error:
        report(request, error)
    else:
        messages.success(request, _("Concern closed."))
    return redirect("matching:manage_pairing", pk=concern.pairing_id)


@coordinator_required
@require_POST
def contact_support_given(request, pk):
    log = get_object_or_404(
        ContactLog.objects.filter(pairing__in=Pairing.objects.managed_by(request.user)), pk=pk
    )
    services.contact_support_given(coordinator=request.user, log=log)
    messages.success(request, _("Marked as talked to."))
    return redirect("matching:manage_pairing", pk=log.pairing_id)
