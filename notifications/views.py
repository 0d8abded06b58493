from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import coordinator_required
from accounts.roles import roles_for
from programmes.models import Organisation

from . import services
from .forms import OrganisationSettingsForm, PreferenceForm
from .models import REFERRAL_KINDS, Delivery, Kind, Notification

PAGE_SIZE = 25


def _unread_count(user) -> int:
    return Notification.objects.visible_to(user).unread().count()


@login_required
@require_GET
def notification_list(request):
    """The person's own notices, newest first."""
    notices = Notification.objects.visible_to(request.user).only(
        "pk", "title", "body", "url", "read_at", "created_at", "kind"
    )
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread_count": _unread_count(request.user)},
    )


@login_required
@require_GET
def bell(request):
    """The bell with its unread count (htmx refreshes it)."""
    return render(
        request, "notifications/_bell.html", {"unread_count": _unread_count(request.user)}
    )


@login_required
@require_POST
def open_notification(request, pk: int):
    notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=pk)
    services.notification_mark_read(user=request.user, notification=notification)
    if request.htmx:
        notification.refresh_from_db()
        response = render(request, "notifications/_item.html", {"notice": notification})
        response["HX-Trigger"] = "notifications-changed"
        return response
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_all_read(request):
    services.notifications_mark_all_read(user=request.user)
    messages.success(request, _("All your notices are marked as read."))
    return redirect("notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """The person's own choices: channels, kinds, reminder times, quiet hours, language."""
    user = request.user
    pref = services.preference_for(user)
    is_coordinator = roles_for(user).is_coordinator
    if request.method == "POST":
        form = PreferenceForm(request.POST, is_coordinator=is_coordinator)
        if form.is_valid():
            services.preference_update(user=user, values=form.values())
            messages.success(request, _("Your choices are saved."))
            return redirect("notifications:preferences")
    else:
        form = PreferenceForm(
            is_coordinator=is_coordinator,
            initial={
                "email_enabled": pref.email_enabled,
                "sms_enabled": pref.sms_enabled,
                "in_app_enabled": pref.in_app_enabled,
                "kinds": [k for k in Kind.values if k not in pref.muted_kinds],
                "session_reminder_offsets": [str(o) for o in pref.session_reminder_offsets],
                "quiet_start": pref.quiet_start,
                "quiet_end": pref.quiet_end,
                "preferred_language": user.preferred_language,
            },
        )
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "has_phone": bool(user.phone), "time_zone": user.time_zone},
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET: a page with one button. POST: stop this kind of e-mail (RFC 8058 one-click too).

    No sign-in and no CSRF token: mail programs post here on their own. The signed token
    names the person and the kind, and can do nothing else.
    """
    try:
        _user_id, kind = services.unsubscribe_check(token=token)
    except services.BadUnsubscribeLink as error:
        return render(
            request, "notifications/unsubscribe.html", {"error": error.message}, status=400
        )
    if request.method == "POST":
        services.unsubscribe(token=token)
        return render(
            request,
            "notifications/unsubscribe.html",
            {"done": True, "kind_label": Kind(kind).label},
        )
    return render(
        request, "notifications/unsubscribe.html", {"kind_label": Kind(kind).label, "token": token}
    )


@coordinator_required
@require_GET
def failed_list(request):
    """Messages that could not be delivered, for the coordinator's organisations."""
    deliveries = (
        Delivery.objects.managed_by(request.user)
        .failed()
        .select_related("user", "organisation")
        .order_by("-due_at", "-pk")
    )
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    _name_referred_people(request.user, page.object_list)
    organisations = Organisation.objects.managed_by(request.user).order_by("name")
    return render(
        request, "notifications/failed_list.html", {"page": page, "organisations": organisations}
    )


def _name_referred_people(user, deliveries) -> None:
    """Messages to people without an account name the referral they are about (one query)."""
    from referrals.models import Referral

    ids = {d.object_id for d in deliveries if d.user_id is None and d.kind in REFERRAL_KINDS}
    if not ids:
        return
    referrals = Referral.objects.managed_by(user).only("pk", "patient_name").in_bulk(ids)
    for delivery in deliveries:
        if delivery.user_id is None:
            delivery.referral = referrals.get(delivery.object_id)


@coordinator_required
@require_POST
def failed_retry(request, pk: int):
    """Try a failed message again; back to the page the coordinator came from (ours only)."""
    delivery = get_object_or_404(Delivery.objects.managed_by(request.user).failed(), pk=pk)
    services.delivery_retry(actor=request.user, delivery=delivery)
    messages.success(request, _("We will try to send this message again in the next minute."))
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notifications:failed")


@coordinator_required
@require_http_methods(["GET", "POST"])
def organisation_settings(request, pk: int):
    """An organisation's usual reminder times for group sessions."""
    organisation = get_object_or_404(Organisation.objects.managed_by(request.user), pk=pk)
    current = services.organisation_settings_for(organisation)
    if request.method == "POST":
        form = OrganisationSettingsForm(request.POST)
        if form.is_valid():
            services.organisation_settings_update(
                actor=request.user,
                organisation=organisation,
                session_reminder_offsets=[
                    int(o) for o in form.cleaned_data["session_reminder_offsets"]
                ],
            )
            messages.success(request, _("Reminder times are saved."))
            return redirect("notifications:organisation_settings", pk=organisation.pk)
    else:
        form = OrganisationSettingsForm(
            initial={"session_reminder_offsets": [str(o) for o in current.session_reminder_offsets]}
        )
    return render(
        request,
        "notifications/organisation_settings.html",
        {"form": form, "organisation": organisation},
    )
