from django.utils.translation import gettext_lazy as _

from peersupport.nav import NavItem

ITEMS = [
    NavItem(_("My groups"), "groups:mine", audience="signed_in", order=30),
    NavItem(_("My sessions"), "groups:my_sessions", audience="signed_in", order=31),
    NavItem(_("Group moderation"), "groups:moderation", audience="coordinator", order=85),
]
