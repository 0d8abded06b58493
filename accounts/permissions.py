"""View decorators for roles. Object-level scoping is done by the querysets."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from .roles import roles_for


def role_required(check):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not check(roles_for(request.user)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


coordinator_required = role_required(lambda roles: roles.is_coordinator)
org_admin_required = role_required(lambda roles: roles.is_org_admin)
clinician_required = role_required(lambda roles: roles.is_approved_clinician)
