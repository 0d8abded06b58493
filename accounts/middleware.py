from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .roles import roles_for


class UserTimezoneMiddleware:
    """Show times in the signed-in person's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timezone.activate(user.tzinfo)
        else:
            timezone.activate(zoneinfo.ZoneInfo("Europe/London"))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class RequireStaffMFAMiddleware:
    """Coordinators and organisation admins must set up an authenticator app first."""

    ALLOWED_PREFIXES = ("/accounts/", "/static/", "/healthz", "/readyz", "/i18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self.ALLOWED_PREFIXES)
            and roles_for(user).is_staff_of_any_org
            and not roles_for(user).has_totp
        ):
            messages.info(
                request,
                _(
                    "Staff accounts must use two-step sign-in. Please set up an "
                    "authenticator app to continue."
                ),
            )
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
