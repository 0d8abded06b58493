"""Carrying a referral from the landing page through sign-up to enrolment, in the session.

The landing page puts the link's or referral's id in the session. When the person signs up
(allauth's `user_signed_up`, which has the request) or comes back signed in (the `continue`
view), the session is read and the referral is tied to the person. When they enrol, the
`Enrolment` post_save receiver moves that referral on to 'enrolled'.
"""

from __future__ import annotations

from . import services
from .models import Referral, ReferralLink

SESSION_LINK = "referrals.link_id"
SESSION_REFERRAL = "referrals.referral_id"
SESSION_CLINICIAN_INVITATION = "referrals.clinician_invitation_id"


def remember_link(request, link: ReferralLink) -> None:
    request.session[SESSION_LINK] = link.pk
    request.session.pop(SESSION_REFERRAL, None)


def remember_referral(request, referral: Referral) -> None:
    request.session[SESSION_REFERRAL] = referral.pk
    request.session.pop(SESSION_LINK, None)


def pending_programme(request):
    """The programme the person was referred to in this session, if any."""
    from programmes.models import Programme

    if link_id := request.session.get(SESSION_LINK):
        return Programme.objects.filter(referral_links__pk=link_id).first()
    if referral_id := request.session.get(SESSION_REFERRAL):
        return Programme.objects.filter(referrals__pk=referral_id).first()
    return None


def attribute_from_session(request, user, *, new_account: bool) -> None:
    """Tie the referral this browser arrived with to `user`. Safe to call more than once."""
    if link_id := request.session.get(SESSION_LINK):
        link = ReferralLink.objects.filter(pk=link_id, revoked_at__isnull=True).first()
        if link is not None and link.is_usable:
            services.link_referral_record(link=link, user=user, new_account=new_account)
    if referral_id := request.session.get(SESSION_REFERRAL):
        referral = Referral.objects.filter(pk=referral_id).first()
        if referral is not None and referral.user_id is None:
            services.referral_attach_user(referral=referral, user=user, new_account=new_account)
