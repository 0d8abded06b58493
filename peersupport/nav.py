"""Site navigation, collected from each app's `nav.py` so apps add links without editing base.html.

An app's `nav.py` defines `ITEMS`, a list of `NavItem`. `audience` names the role that sees the
link: "everyone", "signed_in", "member", "supporter", "clinician", "coordinator" or "org_admin".
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache

from django.urls import NoReverseMatch, reverse

LOCAL_APPS = ("programmes", "referrals", "matching", "groups", "notifications", "accounts")


STAFF_AUDIENCES = frozenset({"coordinator", "org_admin"})


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    audience: str = "signed_in"
    order: int = 50


@cache
def all_items() -> tuple[NavItem, ...]:
    items: list[NavItem] = []
    for app in LOCAL_APPS:
        try:
            module = importlib.import_module(f"{app}.nav")
        except ModuleNotFoundError:
            continue
        items.extend(module.ITEMS)
    return tuple(sorted(items, key=lambda item: item.order))


def _can_see(item: NavItem, user, roles) -> bool:
    if item.audience == "everyone":
        return True
    if not user.is_authenticated:
        return False
    return {
        "signed_in": True,
        "member": roles.is_member,
        "supporter": roles.is_supporter,
        "clinician": roles.is_approved_clinician,
        "coordinator": roles.is_coordinator,
        "org_admin": roles.is_org_admin,
    }.get(item.audience, False)


def items_for(request, roles) -> list[dict]:
    result = []
    for item in all_items():
        if not _can_see(item, request.user, roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        result.append(
            {
                "label": item.label,
                "url": url,
                "current": request.path.startswith(url) and url != "/",
                "staff": item.audience in STAFF_AUDIENCES,
            }
        )
    return result
