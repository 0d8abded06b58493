from django.utils.translation import gettext_lazy as _

from peersupport.nav import NavItem

ITEMS = [
    NavItem(_("My buddies"), "matching:my_pairings", audience="signed_in", order=30),
]
