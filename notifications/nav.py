from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from peersupport.nav import NavItem

ITEMS = [
    NavItem(_("Undelivered messages"), "notifications:failed", audience="coordinator", order=90),
]
