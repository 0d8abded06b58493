"""The clinician's pages: their referrals (status only), their links with counts, and a poster."""

from __future__ import annotations

import io
from datetime import datetime, time

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import clinician_required
from accounts.roles import roles_for
from programmes.models import Programme

from .. import services
from ..forms import ClinicianRegisterForm, ReferralForm, ReferralLinkForm
from ..invitations import problems_by_referral
from ..models import Clinician, Referral, ReferralLink

PAGE_SIZE = 25


def _clinician(request) -> Clinician:
    return services.clinician_for(request.user)


@login_required
def clinician_home(request):
    """A clinician's referrals (status only) and links (with counts)."""
    roles = roles_for(request.user)
    if not roles.is_clinician:
        return redirect("referrals:clinician_register")
    if not roles.is_approved_clinician:
        return render(
            request, "referrals/clinician_waiting.html", {"clinician": _clinician(request)}
        )
    referrals = (
        Referral.objects.of_clinician(request.user)
        .select_related("programme")
        .only(
            "pk",
            "patient_name",
            "status",
            "triage",
            "triage_reason",
            "progress_consent",
            "progress_consent_withdrawn_at",
            "created_at",
            "programme__name",
            "kind",
        )
        .order_by("-created_at")
    )
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    # The clinician knows the person: if the invitation could not reach them, say so, so the
    # contact details can be checked. Only for invitations still waiting to be used.
    problems = problems_by_referral([r.pk for r in page if r.status == Referral.Status.SENT])
    for referral in page:
        referral.delivery_problems = problems.get(referral.pk, [])
    links = (
        ReferralLink.objects.of_clinician(request.user)
        .select_related("programme")
        .with_counts()
        .order_by("-created_at")
    )
    return render(request, "referrals/clinician_home.html", {"page": page, "links": links})


@clinician_required
def referral_create(request):
    """Refer one patient: one short form."""
    clinician = _clinician(request)
    programmes = services.programmes_open_to_clinician(clinician)
    form = ReferralForm(request.POST if request.method == "POST" else None, programmes=programmes)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.referral_create(
                clinician_user=request.user,
                programme=data["programme"],
                patient_name=data["patient_name"],
                email=data["email"],
                phone=data["phone"],
                reason=data["reason"],
                contact_agreed=data["contact_agreed"],
                progress_consent=data["progress_consent"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Referral sent. %(name)s will get an invitation from %(programme)s.")
                % {"name": data["patient_name"], "programme": data["programme"].name},
            )
            return redirect("referrals:clinician_home")
    return render(request, "referrals/referral_form.html", {"form": form})


@clinician_required
@require_POST
def referral_withdraw(request, pk):
    referral = get_object_or_404(Referral.objects.of_clinician(request.user), pk=pk)
    try:
        services.referral_withdraw(clinician_user=request.user, referral=referral)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Referral withdrawn. The invitation link no longer works."))
    return redirect("referrals:clinician_home")


def _link_programmes(request):
    """Programmes the person may make a link for: as a clinician, or as a coordinator."""
    roles = roles_for(request.user)
    ids = set(Programme.objects.managed_by(request.user).values_list("pk", flat=True))
    if roles.is_approved_clinician:
        clinician = _clinician(request)
        ids |= set(services.programmes_open_to_clinician(clinician).values_list("pk", flat=True))
    return Programme.objects.filter(pk__in=ids).order_by("name")


@login_required
def link_create(request):
    roles = roles_for(request.user)
    if not (roles.is_approved_clinician or roles.is_coordinator):
        raise PermissionDenied
    programmes = _link_programmes(request)
    initial = {}
    if programme_id := request.GET.get("programme"):
        initial["programme"] = programmes.filter(pk=programme_id).first()
    form = ReferralLinkForm(
        request.POST if request.method == "POST" else None, programmes=programmes, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expires_at = None
        if data["expires_on"]:
            expires_at = timezone.make_aware(datetime.combine(data["expires_on"], time.max))
        try:
            link = services.referral_link_create(
                user=request.user,
                programme=data["programme"],
                label=data["label"],
                expires_at=expires_at,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Your referral link is ready. Print the poster below."))
            return redirect("referrals:link_poster", pk=link.pk)
    return render(request, "referrals/link_form.html", {"form": form})


def _visible_link(request, pk) -> ReferralLink:
    return get_object_or_404(
        ReferralLink.objects.visible_to(request.user).select_related(
            "programme", "programme__organisation"
        ),
        pk=pk,
    )


def _qr(link: ReferralLink):
    return segno.make(link.url, error="m")


@login_required
def link_poster(request, pk):
    """An A4 poster: the programme in plain words, a QR code and the short address."""
    link = _visible_link(request, pk)
    svg = _qr(link).svg_inline(
        scale=8, dark="#000", title=_("QR code for %(name)s") % {"name": link.programme.name}
    )
    return render(
        request,
        "referrals/poster.html",
        {"link": link, "programme": link.programme, "qr_svg": mark_safe(svg)},  # noqa: S308
    )


@login_required
def link_qr_svg(request, pk):
    link = _visible_link(request, pk)
    buffer = io.BytesIO()
    _qr(link).save(buffer, kind="svg", scale=10, border=4)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="referral-link-{link.pk}.svg"'
    return response


@login_required
def link_qr_png(request, pk):
    link = _visible_link(request, pk)
    buffer = io.BytesIO()
    _qr(link).save(buffer, kind="png", scale=10, border=4)
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="referral-link-{link.pk}.png"'
    return response


@login_required
@require_POST
def link_revoke(request, pk):
    link = _visible_link(request, pk)
    services.referral_link_revoke(user=request.user, link=link)
    messages.success(
        request, _("The link is switched off. Posters that show it will stop working.")
    )
    if link.clinician and link.clinician.user_id == request.user.pk:
        return redirect("referrals:clinician_home")
    return redirect("referrals:manage_links", pk=link.programme_id)


@login_required
def clinician_register(request):
    """Sign up as a clinician; a coordinator approves before you can refer."""
    if roles_for(request.user).is_clinician:
        return redirect("referrals:clinician_home")
    form = ClinicianRegisterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.clinician_register(
                user=request.user,
                organisation=data["organisation"],
                practice_name=data["practice_name"],
                practice_kind=data["practice_kind"],
                practice_area=data["practice_area"],
                job_title=data["job_title"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("referrals:clinician_home")
    return render(request, "referrals/clinician_register.html", {"form": form})


@login_required
@require_POST
def stop_sharing_progress(request, pk):
    """The referred person stops their clinician seeing their progress."""
    referral = get_object_or_404(Referral.objects.filter(user=request.user), pk=pk)
    services.referral_withdraw_progress_consent(user=request.user, referral=referral)
    messages.success(request, _("Done. Your clinician will no longer see how you are getting on."))
    return redirect("programmes:mine")
