from django.utils.translation import gettext_lazy as _

from peersupport.nav import NavItem

ITEMS = [
    NavItem(_("Find support"), "programmes:directory", audience="everyone", order=10),
    NavItem(_("My programmes"), "programmes:mine", audience="signed_in", order=20),
    NavItem(_("Dashboard"), "programmes:dashboard", audience="coordinator", order=70),
    NavItem(_("Manage programmes"), "programmes:manage_list", audience="coordinator", order=80),
    NavItem(_("Organisation"), "programmes:organisation", audience="org_admin", order=90),
]
