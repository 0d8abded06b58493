from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import coordinator_required
from accounts.roles import roles_for
from peersupport.dashboard import alerts as dashboard_alerts
from peersupport.dashboard import columns as dashboard_columns
from peersupport.dashboard import counts as dashboard_counts
from peersupport.pagecache import cached_page
from peersupport.urlpattern import pk_url

from . import services
from .forms import (
    AssistedEnrolmentForm,
    DirectoryFilterForm,
    EnrolmentFilterForm,
    JoinForm,
    ProgrammeForm,
    VolunteerForm,
)
from .models import Enrolment, Programme

PAGE_SIZE = 25


def home(request):
    """The front page: what the platform is, and where each kind of person goes next."""
    roles = roles_for(request.user)
    context = {"featured": Programme.objects.listed().select_related("organisation")[:3]}
    if request.user.is_authenticated:
        context["my_enrolments"] = (
            Enrolment.objects.filter(user=request.user)
            .current()
            .select_related("programme")
            .order_by("programme__name")
        )
    context["roles"] = roles
    return render(request, "programmes/home.html", context)


DIRECTORY_CACHE_SECONDS = 300
DIRECTORY_PARAMS = frozenset({"q", "condition", "format", "page"})


@cached_page
def directory(request):
    """Public list of open programmes, with search and filters.

    For visitors who are not signed in, the list (search form, results and pages) is kept
    in the cache for each query, under a version of the listed programmes: how many there
    are and when one last changed. A programme opened, closed or edited shows at once; a
    change that leaves programmes untouched (an organisation's new name) within
    DIRECTORY_CACHE_SECONDS. The page around the list is drawn for each visitor, so each
    still gets their own CSRF token.
    """
    listed = Programme.objects.listed()
    key = None
    if (
        not request.user.is_authenticated
        and set(request.GET) <= DIRECTORY_PARAMS
        and len(request.GET.urlencode()) <= 300
    ):
        version = listed.aggregate(n=Count("pk"), changed=Max("updated_at"))
        raw = f"{version['n']}|{version['changed']}|{get_language()}|{request.GET.urlencode()}"
        key = "programmes:directory:" + hashlib.sha256(raw.encode()).hexdigest()
        body = cache.get(key)
        if body is not None:
            return render(request, "programmes/directory.html", {"body": mark_safe(body)})  # noqa: S308 - our own rendered HTML
    body = _directory_body(request, listed)
    if key is not None:
        cache.set(key, str(body), DIRECTORY_CACHE_SECONDS)
    return render(request, "programmes/directory.html", {"body": body})


def _directory_body(request, listed) -> str:
    conditions = sorted(set(listed.values_list("condition", flat=True)))
    form = DirectoryFilterForm(request.GET or None, conditions=conditions)
    programmes = listed.select_related("organisation")
    if form.is_valid():
        data = form.cleaned_data
        programmes = programmes.search(data["q"])
        if data["condition"]:
            programmes = programmes.filter(condition=data["condition"])
        if data["format"]:
            programmes = programmes.filter(formats__in=[data["format"], Programme.Formats.BOTH])
    page = Paginator(programmes.order_by("name"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render_to_string(
        "programmes/_directory_body.html", {"form": form, "page": page}, request=request
    )


def detail(request, slug):
    """A programme's public page: who it is for and what happens if you join."""
    programme = get_object_or_404(
        Programme.objects.visible_to(request.user).select_related("organisation"), slug=slug
    )
    enrolments = []
    if request.user.is_authenticated:
        enrolments = list(
            Enrolment.objects.filter(user=request.user, programme=programme).current()
        )
    return render(
        request,
        "programmes/detail.html",
        {
            "programme": programme,
            "enrolments": enrolments,
            "is_recipient": any(e.is_recipient for e in enrolments),
            "is_supporter": any(e.role == Enrolment.Role.SUPPORTER for e in enrolments),
            "can_manage": Programme.objects.managed_by(request.user)
            .filter(pk=programme.pk)
            .exists(),
        },
    )


@login_required
def join(request, slug):
    """Join an open programme as a patient or caregiver, agreeing to its privacy notice."""
    programme = get_object_or_404(Programme.objects.visible_to(request.user), slug=slug)
    initial = {"consent_version": programme.privacy_notice_version}
    if request.GET.get("role") in (Enrolment.Role.PATIENT, Enrolment.Role.CAREGIVER):
        initial["role"] = request.GET["role"]
    form = JoinForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_create(
                user=request.user,
                programme=programme,
                role=form.cleaned_data["role"],
                consent_version=form.cleaned_data["consent_version"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Welcome! You have joined %(name)s.") % {"name": programme})
            return redirect("programmes:mine")
    return render(request, "programmes/join.html", {"programme": programme, "form": form})


@login_required
def volunteer(request, slug):
    """Apply to be a peer supporter in a programme."""
    programme = get_object_or_404(Programme.objects.visible_to(request.user), slug=slug)
    form = VolunteerForm(
        request.POST if request.method == "POST" else None,
        initial={"consent_version": programme.privacy_notice_version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_create(
                user=request.user,
                programme=programme,
                role=Enrolment.Role.SUPPORTER,
                consent_version=form.cleaned_data["consent_version"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _(
                    "Thank you for offering to help. "
                    "A coordinator will be in touch about next steps."
                ),
            )
            return redirect("programmes:mine")
    return render(request, "programmes/volunteer.html", {"programme": programme, "form": form})


@login_required
def mine(request):
    """The programmes the signed-in person takes part in."""
    enrolments = (
        Enrolment.objects.filter(user=request.user)
        .current()
        .select_related("programme", "programme__organisation")
        .order_by("programme__name")
    )
    return render(request, "programmes/mine.html", {"enrolments": enrolments})


@login_required
@require_POST
def leave(request, pk):
    enrolment = get_object_or_404(Enrolment.objects.filter(user=request.user), pk=pk)
    services.enrolment_leave(user=request.user, enrolment=enrolment)
    messages.success(
        request,
        _("You have left %(name)s. You can join again at any time.")
        % {"name": enrolment.programme},
    )
    return redirect("programmes:mine")


@coordinator_required
def manage_list(request):
    """The coordinator's programmes, with how many people are in each."""
    programmes = (
        Programme.objects.managed_by(request.user)
        .select_related("organisation")
        .with_counts()
        .order_by("status", "name")
    )
    return render(request, "programmes/manage_list.html", {"programmes": programmes})


@coordinator_required
def manage_create(request):
    form = ProgrammeForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        programme = services.programme_create(
            user=request.user, organisation=data.pop("organisation"), **data
        )
        messages.success(
            request,
            _("Programme created as a draft. Open it when you are ready for people to join."),
        )
        return redirect("programmes:manage_detail", pk=programme.pk)
    return render(request, "programmes/manage_form.html", {"form": form, "programme": None})


@coordinator_required
def manage_edit(request, pk):
    programme = get_object_or_404(Programme.objects.managed_by(request.user), pk=pk)
    form = ProgrammeForm(
        request.POST if request.method == "POST" else None, instance=programme, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("organisation")
        # The form already wrote cleaned values onto the instance; reload so the service
        # can see what changed.
        programme = Programme.objects.get(pk=programme.pk)
        services.programme_update(user=request.user, programme=programme, **data)
        messages.success(request, _("Programme saved."))
        return redirect("programmes:manage_detail", pk=programme.pk)
    return render(request, "programmes/manage_form.html", {"form": form, "programme": programme})


@coordinator_required
@require_POST
def manage_status(request, pk):
    programme = get_object_or_404(Programme.objects.managed_by(request.user), pk=pk)
    status = request.POST.get("status", "")
    try:
        services.programme_set_status(user=request.user, programme=programme, status=status)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            _("%(name)s is now %(status)s.")
            % {"name": programme, "status": programme.get_status_display().lower()},
        )
    return redirect("programmes:manage_detail", pk=programme.pk)


@coordinator_required
def manage_detail(request, pk):
    """A programme's enrolments for its coordinators, filtered and searchable."""
    programme = get_object_or_404(
        Programme.objects.managed_by(request.user).select_related("organisation"), pk=pk
    )
    form = EnrolmentFilterForm(request.GET or None)
    enrolments = programme.enrolments.select_related("user", "assisted_by").order_by(
        "user__display_name"
    )
    if form.is_valid():
        data = form.cleaned_data
        enrolments = enrolments.search(data["q"])
        if data["role"]:
            enrolments = enrolments.filter(role=data["role"])
        if data["status"]:
            enrolments = enrolments.filter(status=data["status"])
    counts = programme.enrolments.aggregate(
        recipients=Count("pk", filter=Q(status="active", role__in=Enrolment.RECIPIENT_ROLES)),
        supporters=Count("pk", filter=Q(status="active", role="supporter")),
        applied=Count("pk", filter=Q(status="applied")),
    )
    page = Paginator(enrolments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "programmes/manage_detail.html",
        {"programme": programme, "form": form, "page": page, "counts": counts},
    )


@coordinator_required
def manage_enrol(request, pk):
    """Enrol someone on their behalf (assisted enrolment)."""
    programme = get_object_or_404(Programme.objects.managed_by(request.user), pk=pk)
    form = AssistedEnrolmentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.enrolment_assisted_create(
                coordinator=request.user,
                programme=programme,
                role=data["role"],
                display_name=data["display_name"],
                email=data["email"],
                phone=data["phone"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(name)s is enrolled.") % {"name": data["display_name"]})
            return redirect("programmes:manage_detail", pk=programme.pk)
    return render(request, "programmes/manage_enrol.html", {"programme": programme, "form": form})


@coordinator_required
@cached_page
def dashboard(request):
    """What needs a coordinator's attention, programme by programme."""
    programmes = list(
        Programme.objects.managed_by(request.user)
        .exclude(status=Programme.Status.CLOSED)
        .select_related("organisation")
        .order_by("name")
    )
    counts = dashboard_counts([p.pk for p in programmes])
    cols = dashboard_columns()
    # Each column's label translated and its address reversed once, not once per programme.
    labels = [str(column.label) for column in cols]
    urls = [pk_url(column.url_name) if column.url_name else None for column in cols]
    rows = [
        {
            "programme": programme,
            "cells": [
                {
                    "column": column,
                    "label": label,
                    "value": counts.get(programme.pk, {}).get(column.key, 0),
                    "url": url(programme.pk) if url else "",
                }
                for column, label, url in zip(cols, labels, urls, strict=True)
            ],
        }
        for programme in programmes
    ]
    return render(
        request,
        "programmes/dashboard.html",
        {"columns": cols, "rows": rows, "alerts": dashboard_alerts(request.user)},
    )
