"""Pages reached from a token: referral links, named invitations, clinician invitations.

Unknown and revoked tokens get exactly the same page, so nobody can probe for tokens.
Every token endpoint is rate limited per address.
"""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from programmes.models import Enrolment

from .. import services
from ..attribution import (
    SESSION_CLINICIAN_INVITATION,
    SESSION_LINK,
    SESSION_REFERRAL,
    attribute_from_session,
    pending_programme,
    remember_link,
    remember_referral,
)
from ..forms import InvitationAcceptForm
from ..models import ClinicianInvitation, Referral
from ..ratelimit import is_rate_limited

ROLES = (Enrolment.Role.PATIENT, Enrolment.Role.CAREGIVER)


def _not_found(request):
    return render(request, "referrals/token_problem.html", {"problem": "unknown"}, status=404)


def _problem(request, problem: str, programme=None, status: int = 410):
    return render(
        request,
        "referrals/token_problem.html",
        {"problem": problem, "programme": programme},
        status=status,
    )


def _too_many(request):
    return render(request, "referrals/token_problem.html", {"problem": "rate"}, status=429)


def link_landing(request, token):
    """Where a poster or QR code leads: the programme in plain words, and what happens next."""
    if is_rate_limited(request, "token"):
        return _too_many(request)
    link = services.referral_link_find(token)
    if link is None:
        return _not_found(request)
    if not link.is_usable:
        return _problem(request, "expired", link.programme)
    if not link.programme.is_open:
        return _problem(request, "closed", link.programme)
    services.referral_link_record_visit(link=link)
    remember_link(request, link)
    return render(
        request,
        "referrals/landing.html",
        {"programme": link.programme, "referral": None, "token": token},
    )


def invitation_landing(request, token):
    """Where a named referral's e-mail leads."""
    if is_rate_limited(request, "token"):
        return _too_many(request)
    referral = services.referral_find_by_token(token)
    if referral is None:
        return _not_found(request)
    if referral.status in (Referral.Status.EXPIRED,) or (
        referral.status in Referral.TOKEN_STATUSES and not referral.token_is_usable
    ):
        return _problem(request, "expired", referral.programme)
    if referral.status == Referral.Status.DECLINED:
        return _problem(request, "declined", referral.programme)
    if referral.status not in Referral.TOKEN_STATUSES:
        return _problem(request, "used", referral.programme)
    services.referral_mark_opened(referral=referral)
    remember_referral(request, referral)
    if referral.email:
        # They got this link by e-mail, so that address is theirs: no second check needed.
        get_adapter(request).stash_verified_email(request, referral.email)
    return render(
        request,
        "referrals/landing.html",
        {"programme": referral.programme, "referral": referral, "token": token},
    )


@require_POST
def invitation_decline(request, token):
    """'No thanks' in one click: nobody will contact the person about this referral."""
    if is_rate_limited(request, "token"):
        return _too_many(request)
    referral = services.referral_find_by_token(token)
    if referral is None:
        return _not_found(request)
    if not services.referral_decline(referral=referral):
        return _problem(request, "used", referral.programme)
    request.session.pop(SESSION_REFERRAL, None)
    return render(request, "referrals/declined.html", {"programme": referral.programme})


def continue_to_join(request):
    """After the landing page: sign up or sign in, then join the programme with the role chosen."""
    role = request.GET.get("role")
    if role not in ROLES:
        role = Enrolment.Role.PATIENT
    programme = pending_programme(request)
    if programme is None:
        messages.info(request, _("Choose a programme to join."))
        return redirect("programmes:directory")
    here = f"{reverse('referrals:continue')}?{urlencode({'role': role})}"
    if not request.user.is_authenticated:
        query = {"next": here}
        if request.GET.get("have_account"):
            return redirect(f"{reverse('account_login')}?{urlencode(query)}")
        return redirect(f"{reverse('account_signup')}?{urlencode(query)}")
    attribute_from_session(request, request.user, new_account=False)
    request.session.pop(SESSION_LINK, None)
    request.session.pop(SESSION_REFERRAL, None)
    join = reverse("programmes:join", kwargs={"slug": programme.slug})
    return redirect(f"{join}?{urlencode({'role': role})}")


def clinician_invitation(request, token):
    """A coordinator invited a clinician: explain, then sign up or sign in to accept."""
    if is_rate_limited(request, "token"):
        return _too_many(request)
    invitation = services.clinician_invitation_find(token)
    if invitation is None:
        return _not_found(request)
    if invitation.accepted_at:
        return _problem(request, "used")
    if invitation.is_expired:
        return _problem(request, "expired_invitation")
    request.session[SESSION_CLINICIAN_INVITATION] = invitation.pk
    get_adapter(request).stash_verified_email(request, invitation.email)
    accept = reverse("referrals:clinician_invitation_accept")
    return render(
        request,
        "referrals/clinician_invitation.html",
        {
            "invitation": invitation,
            "signup_url": f"{reverse('account_signup')}?"
            + urlencode({"next": accept, "email": invitation.email}),
            "login_url": f"{reverse('account_login')}?{urlencode({'next': accept})}",
        },
    )


@login_required
def clinician_invitation_accept(request):
    invitation_id = request.session.get(SESSION_CLINICIAN_INVITATION)
    invitation = (
        ClinicianInvitation.objects.select_related("practice", "practice__organisation")
        .filter(pk=invitation_id, revoked_at__isnull=True)
        .first()
        if invitation_id
        else None
    )
    if invitation is None:
        return _not_found(request)
    form = InvitationAcceptForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.clinician_invitation_accept(
                user=request.user, invitation=invitation, job_title=form.cleaned_data["job_title"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session.pop(SESSION_CLINICIAN_INVITATION, None)
            messages.success(request, _("Welcome. You can now refer people."))
            return redirect("referrals:clinician_home")
    return render(
        request,
        "referrals/clinician_invitation_accept.html",
        {"invitation": invitation, "form": form},
    )
