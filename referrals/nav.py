from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from peersupport.nav import NavItem

ITEMS = [
    NavItem(_("Your referrals"), "referrals:clinician_home", audience="clinician", order=20),
    NavItem(_("Practices"), "referrals:practice_list", audience="coordinator", order=60),
]
