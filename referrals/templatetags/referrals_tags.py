from __future__ import annotations

from django import template

from referrals.models import Referral

register = template.Library()


@register.simple_tag(takes_context=True)
def shared_referral_for(context, enrolment) -> Referral | None:
    """The person's referral to this enrolment's programme that they still share with a clinician.

    Loaded once per request for all of the person's referrals, so a page of cards stays at
    one query.
    """
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    cache = getattr(request, "_referrals_shared", None)
    if cache is None:
        cache = {
            r.programme_id: r
            for r in Referral.objects.filter(
                user=request.user,
                kind=Referral.Kind.NAMED,
                progress_consent=True,
                progress_consent_withdrawn_at__isnull=True,
            ).only("pk", "programme_id")
        }
        request._referrals_shared = cache
    return cache.get(enrolment.programme_id)
