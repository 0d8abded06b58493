"""Organisation admins: the organisation's details and its staff."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import org_admin_required

from . import services
from .forms import OrganisationForm, StaffAddForm
from .models import Organisation, StaffMembership


def _organisation(request) -> Organisation:
    # An admin of several organisations picks one with ?org=<id>; scoped either way.
    admin_orgs = Organisation.objects.managed_by(request.user, admin_only=True).order_by("name")
    org_id = request.GET.get("org") or request.POST.get("org")
    if org_id:
        return get_object_or_404(admin_orgs, pk=org_id)
    return admin_orgs.first()


@org_admin_required
def organisation_settings(request):
    organisation = _organisation(request)
    form = OrganisationForm(
        request.POST if request.method == "POST" else None, instance=organisation
    )
    if request.method == "POST" and form.is_valid():
        services.organisation_update(
            user=request.user,
            organisation=Organisation.objects.get(pk=organisation.pk),
            **form.cleaned_data,
        )
        messages.success(request, _("Organisation details saved."))
        return redirect("programmes:organisation")
    staff = organisation.staff.select_related("user").order_by("user__display_name")
    return render(
        request,
        "programmes/organisation.html",
        {"organisation": organisation, "form": form, "staff": staff, "add_form": StaffAddForm()},
    )


@org_admin_required
def staff_add(request):
    organisation = _organisation(request)
    form = StaffAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        membership, created = services.staff_add(
            admin=request.user, organisation=organisation, **form.cleaned_data
        )
        if created:
            # allauth's password-reset e-mail doubles as the "set your password" invitation.
            reset = ResetPasswordForm({"email": membership.user.email})
            if reset.is_valid():
                reset.save(request)
        messages.success(
            request,
            _("%(name)s is now a %(role)s. New accounts get an e-mail to set a password.")
            % {"name": membership.user, "role": membership.get_role_display().lower()},
        )
        return redirect("programmes:organisation")
    return render(
        request, "programmes/staff_add.html", {"organisation": organisation, "form": form}
    )


@org_admin_required
@require_POST
def staff_change(request, pk):
    membership = get_object_or_404(
        StaffMembership.objects.filter(
            organisation__in=Organisation.objects.managed_by(request.user, admin_only=True)
        ),
        pk=pk,
    )
    try:
        if request.POST.get("action") == "remove":
            services.staff_remove(admin=request.user, membership=membership)
            messages.success(request, _("Staff role removed."))
        else:
            services.staff_change_role(
                admin=request.user, membership=membership, role=request.POST.get("role", "")
            )
            messages.success(request, _("Role changed."))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect("programmes:organisation")
