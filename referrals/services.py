"""Writes for practices, clinicians, referral links and referrals. Views and tasks call these."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.roles import roles_for
from peersupport.enqueue import after_commit, requeue
from programmes.models import Enrolment, Organisation, Programme

from .models import (
    Clinician,
    ClinicianInvitation,
    Practice,
    Referral,
    ReferralLink,
    ReferralNote,
)
from .tokens import hash_token, looks_like_token, new_token_pair

logger = logging.getLogger(__name__)


class DuplicateReferral(ValidationError):
    pass


class ReferralNotAllowed(ValidationError):
    pass


class InvitationNotUsable(ValidationError):
    pass


# --- helpers -------------------------------------------------------------------------------


def normalise_phone(phone: str) -> str:
    """A mobile number in one comparable form: digits with a leading +, UK 07... as +447..."""
    digits = re.sub(r"[^\d+]", "", phone or "")
    if not digits:
        return ""
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif digits.startswith("0"):
        digits = "+44" + digits[1:]
    elif not digits.startswith("+"):
        digits = "+" + digits
    return digits


def _require_manager(*, user: User, organisation_id: int) -> None:
    if not Organisation.objects.managed_by(user).filter(pk=organisation_id).exists():
        raise PermissionDenied


def _approved_clinician(user: User) -> Clinician:
    clinician = (
        Clinician.objects.select_related("practice").filter(user=user, status="approved").first()
    )
    if clinician is None:
        raise PermissionDenied
    return clinician


def _send_mail(*, template: str, to: str, context: dict) -> None:
    subject = render_to_string(f"referrals/email/{template}_subject.txt", context).strip()
    text = render_to_string(f"referrals/email/{template}.txt", context)
    html = render_to_string(f"referrals/email/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send()


def programmes_open_to_clinician(clinician: Clinician):
    """The open programmes of the organisation the clinician's practice refers to."""
    return Programme.objects.filter(
        organisation_id=clinician.practice.organisation_id, status=Programme.Status.OPEN
    )


# --- practices and clinicians ----------------------------------------------------------------


def practice_create(
    *, coordinator: User, organisation: Organisation, name: str, kind: str, area: str = ""
) -> Practice:
    """Add a referring practice or team to an organisation the coordinator works for."""
    _require_manager(user=coordinator, organisation_id=organisation.pk)
    return Practice.objects.create(organisation=organisation, name=name, kind=kind, area=area)


@transaction.atomic
def clinician_register(
    *,
    user: User,
    organisation: Organisation,
    practice_name: str,
    practice_kind: str,
    practice_area: str = "",
    job_title: str = "",
) -> Clinician:
    """A clinician signs up themselves; they can refer once a coordinator approves them."""
    if Clinician.objects.filter(user=user).exists():
        raise ValidationError(_("You are already registered as a clinician."))
    practice = Practice.objects.filter(
        organisation=organisation, name__iexact=practice_name.strip()
    ).first()
    if practice is None:
        practice = Practice.objects.create(
            organisation=organisation,
            name=practice_name.strip(),
            kind=practice_kind,
            area=practice_area,
        )
    clinician = Clinician.objects.create(
        user=user, practice=practice, job_title=job_title, status=Clinician.Status.PENDING
    )
    logger.info("clinician.registered", extra={"clinician_id": clinician.pk})
    return clinician


def clinician_set_status(*, coordinator: User, clinician: Clinician, status: str) -> Clinician:
    """Approve or suspend a clinician whose practice refers to the coordinator's organisation."""
    _require_manager(user=coordinator, organisation_id=clinician.practice.organisation_id)
    if status not in (Clinician.Status.APPROVED, Clinician.Status.SUSPENDED):
        raise ValidationError(_("Unknown status."))
    clinician.status = status
    fields = ["status"]
    if status == Clinician.Status.APPROVED:
        clinician.approved_by = coordinator
        clinician.approved_at = timezone.now()
        fields += ["approved_by", "approved_at"]
    clinician.save(update_fields=fields)
    return clinician


def clinician_invitation_create(
    *, coordinator: User, practice: Practice, email: str
) -> ClinicianInvitation:
    """Invite a clinician by e-mail to refer on behalf of a practice; the e-mail goes by task."""
    from .tasks import clinician_invitation_send as send_task

    _require_manager(user=coordinator, organisation_id=practice.organisation_id)
    nonce, token_hash = new_token_pair(ClinicianInvitation.TOKEN_PURPOSE)
    invitation = ClinicianInvitation.objects.create(
        practice=practice,
        email=email.strip(),
        token_nonce=nonce,
        token_hash=token_hash,
        created_by=coordinator,
        expires_at=timezone.now() + timedelta(days=ClinicianInvitation.VALID_DAYS),
    )
    after_commit(send_task, invitation.pk)  # if the broker is away, housekeeping sends it
    return invitation


def clinician_invitation_send(*, invitation_id: int) -> bool:
    """Send one invitation e-mail, once: the row is claimed before sending."""
    claimed = ClinicianInvitation.objects.filter(
        pk=invitation_id, sent_at__isnull=True, revoked_at__isnull=True
    ).update(sent_at=timezone.now())
    if not claimed:
        return False
    invitation = ClinicianInvitation.objects.select_related(
        "practice", "practice__organisation"
    ).get(pk=invitation_id)
    url = settings.SITE_URL + invitation_url_path(invitation)
    try:
        _send_mail(
            template="clinician_invitation",
            to=invitation.email,
            context={"invitation": invitation, "url": url},
        )
    except Exception:
        ClinicianInvitation.objects.filter(pk=invitation_id).update(sent_at=None)
        raise
    logger.info("clinician_invitation.sent", extra={"invitation_id": invitation_id})
    return True


def clinician_invitations_requeue(*, now=None) -> int:
    """Queue again invitations not sent a while after they were made (the broker could not
    take them, or their retries ran out), for a day; claiming keeps each to one e-mail."""
    from .tasks import clinician_invitation_send as send_task

    now = now or timezone.now()
    waiting = ClinicianInvitation.objects.filter(
        sent_at__isnull=True,
        revoked_at__isnull=True,
        accepted_at__isnull=True,
        expires_at__gt=now,
        created_at__lt=now - timedelta(minutes=10),
        created_at__gte=now - timedelta(days=1),
    )
    return requeue(send_task, waiting)


def invitation_url_path(invitation: ClinicianInvitation) -> str:
    from django.urls import reverse

    return reverse("referrals:clinician_invitation", kwargs={"token": invitation.token})


def clinician_invitation_find(token: str) -> ClinicianInvitation | None:
    """The invitation a token belongs to, or None. Revoked ones are treated as unknown."""
    if not looks_like_token(token):
        return None
    return (
        ClinicianInvitation.objects.select_related("practice", "practice__organisation")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )


@transaction.atomic
def clinician_invitation_accept(
    *, user: User, invitation: ClinicianInvitation, job_title: str = ""
) -> Clinician:
    """Accept an invitation: the person becomes an approved clinician of the practice, once."""
    if Clinician.objects.filter(user=user).exists():
        raise InvitationNotUsable(_("Your account is already registered as a clinician."))
    now = timezone.now()
    used = ClinicianInvitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(accepted_at=now, accepted_by=user)
    if not used:
        raise InvitationNotUsable(_("This invitation has already been used or has expired."))
    return Clinician.objects.create(
        user=user,
        practice=invitation.practice,
        job_title=job_title,
        status=Clinician.Status.APPROVED,
        approved_by=invitation.created_by,
        approved_at=now,
    )


# --- referral links ------------------------------------------------------------------------


def referral_link_create(
    *, user: User, programme: Programme, label: str = "", expires_at=None
) -> ReferralLink:
    """A poster/QR link for a programme, made by an approved clinician or a coordinator."""
    clinician = Clinician.objects.filter(user=user, status="approved").first()
    if clinician is not None and clinician.practice.organisation_id == programme.organisation_id:
        practice = clinician.practice
    elif Programme.objects.managed_by(user).filter(pk=programme.pk).exists():
        clinician, practice = None, None
    else:
        raise PermissionDenied
    nonce, token_hash = new_token_pair(ReferralLink.TOKEN_PURPOSE)
    return ReferralLink.objects.create(
        programme=programme,
        label=label,
        created_by=user,
        clinician=clinician,
        practice=practice,
        token_nonce=nonce,
        token_hash=token_hash,
        expires_at=expires_at,
    )


def referral_link_revoke(*, user: User, link: ReferralLink) -> ReferralLink:
    """Stop a link working; posters that show it lead to the friendly 'link not found' page."""
    if not ReferralLink.objects.visible_to(user).filter(pk=link.pk).exists():
        raise PermissionDenied
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


def referral_link_find(token: str) -> ReferralLink | None:
    """The link for a token, or None when unknown or revoked (the two look the same)."""
    if not looks_like_token(token):
        return None
    return (
        ReferralLink.objects.select_related("programme", "programme__organisation")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )


def referral_link_record_visit(*, link: ReferralLink) -> None:
    """Count a visit: a number only, nothing about the visitor is kept."""
    ReferralLink.objects.filter(pk=link.pk).update(visit_count=F("visit_count") + 1)


def _already_enrolled(*, user_id: int, programme_id: int) -> bool:
    return Enrolment.objects.filter(
        user_id=user_id,
        programme_id=programme_id,
        role__in=Enrolment.RECIPIENT_ROLES,
        status=Enrolment.Status.ACTIVE,
    ).exists()


def link_referral_record(*, link: ReferralLink, user: User, new_account: bool) -> Referral:
    """Attribute a person who arrived through a link to that link (first link wins)."""
    existing = Referral.objects.filter(
        kind=Referral.Kind.LINK, programme_id=link.programme_id, user=user
    ).first()
    if existing is not None:
        return existing
    now = timezone.now()
    enrolled = _already_enrolled(user_id=user.pk, programme_id=link.programme_id)
    try:
        with transaction.atomic():
            return Referral.objects.create(
                kind=Referral.Kind.LINK,
                programme_id=link.programme_id,
                link=link,
                clinician_id=link.clinician_id,
                practice_id=link.practice_id,
                user=user,
                new_account=new_account,
                # Sharing progress with a clinician needs the person's own consent.
                progress_consent=False,
                status=Referral.Status.ENROLLED if enrolled else Referral.Status.REGISTERED,
                registered_at=now,
                enrolled_at=now if enrolled else None,
            )
    except IntegrityError:
        return Referral.objects.get(
            kind=Referral.Kind.LINK, programme_id=link.programme_id, user=user
        )


# --- named referrals -----------------------------------------------------------------------


def referral_create(
    *,
    clinician_user: User,
    programme: Programme,
    patient_name: str,
    email: str = "",
    phone: str = "",
    reason: str = "",
    contact_agreed: bool,
    progress_consent: bool,
) -> Referral:
    """A clinician refers one person. The invitation (by e-mail and/or text) and its one
    reminder are planned in the notifications ledger with the referral; the invitation goes
    out once the referral is committed."""
    from notifications.services import referral_messages_plan

    clinician = _approved_clinician(clinician_user)
    if not programmes_open_to_clinician(clinician).filter(pk=programme.pk).exists():
        raise ReferralNotAllowed(_("You cannot refer people to this programme."))
    if not contact_agreed:
        raise ReferralNotAllowed(
            _("Please check the person agreed to be contacted before you refer them.")
        )
    email = (email or "").strip()
    phone_normalised = normalise_phone(phone)
    if not email and not phone_normalised:
        raise ReferralNotAllowed(_("Please give an e-mail address or a mobile number."))
    duplicate = _find_duplicate(programme=programme, email=email, phone=phone_normalised)
    if duplicate:
        raise DuplicateReferral(
            _(
                "This person has already been referred to %(programme)s, and that referral is "
                "still open. You do not need to refer them again."
            )
            % {"programme": programme.name}
        )
    nonce, token_hash = new_token_pair(Referral.TOKEN_PURPOSE)
    try:
        with transaction.atomic():
            referral = Referral.objects.create(
                kind=Referral.Kind.NAMED,
                programme=programme,
                clinician=clinician,
                practice=clinician.practice,
                patient_name=patient_name.strip(),
                email=email,
                phone=phone.strip(),
                phone_normalised=phone_normalised,
                reason=reason.strip(),
                contact_agreed=True,
                progress_consent=progress_consent,
                token_nonce=nonce,
                token_hash=token_hash,
                expires_at=timezone.now() + timedelta(days=Referral.VALID_DAYS),
                created_by=clinician_user,
            )
            referral_messages_plan(referral=referral)
    except IntegrityError as exc:
        # Two referrals of the same person raced each other; the constraint caught the second.
        raise DuplicateReferral(
            _("This person has already been referred to %(programme)s.")
            % {"programme": programme.name}
        ) from exc
    logger.info("referral.created", extra={"referral_id": referral.pk})
    return referral


def _find_duplicate(*, programme: Programme, email: str, phone: str) -> bool:
    match = Q()
    if email:
        match |= Q(email__iexact=email)
    if phone:
        match |= Q(phone_normalised=phone)
    return (
        Referral.objects.open()
        .filter(match, programme=programme, kind=Referral.Kind.NAMED)
        .exists()
    )


def referrals_expire() -> int:
    """Mark named referrals whose invitation was never used within 30 days as expired."""
    now = timezone.now()
    count = Referral.objects.filter(status__in=Referral.TOKEN_STATUSES, expires_at__lte=now).update(
        status=Referral.Status.EXPIRED, closed_at=now
    )
    if count:
        logger.info("referral.expired", extra={"count": count})
    return count


def referral_find_by_token(token: str) -> Referral | None:
    """The named referral a token belongs to, or None when unknown or withdrawn."""
    if not looks_like_token(token):
        return None
    return (
        Referral.objects.select_related("programme", "programme__organisation", "clinician__user")
        .filter(token_hash=hash_token(token))
        .exclude(status=Referral.Status.WITHDRAWN)
        .first()
    )


def referral_mark_opened(*, referral: Referral) -> None:
    """The person followed their invitation link (first time only)."""
    Referral.objects.filter(pk=referral.pk, status=Referral.Status.SENT).update(
        status=Referral.Status.OPENED, opened_at=timezone.now()
    )


def referral_decline(*, referral: Referral) -> bool:
    """The person says no thanks, in one click from their invitation."""
    now = timezone.now()
    done = Referral.objects.filter(
        pk=referral.pk, status__in=Referral.TOKEN_STATUSES, expires_at__gt=now
    ).update(status=Referral.Status.DECLINED, closed_at=now)
    return bool(done)


def referral_withdraw(*, clinician_user: User, referral: Referral) -> Referral:
    """The referring clinician takes a referral back (for example, made by mistake)."""
    if not Referral.objects.of_clinician(clinician_user).filter(pk=referral.pk).exists():
        raise PermissionDenied
    now = timezone.now()
    done = Referral.objects.filter(pk=referral.pk, status__in=Referral.TOKEN_STATUSES).update(
        status=Referral.Status.WITHDRAWN, closed_at=now
    )
    if not done:
        raise ReferralNotAllowed(
            _("The person has already signed up, so this referral cannot be withdrawn.")
        )
    referral.refresh_from_db()
    return referral


def referral_withdraw_progress_consent(*, user: User, referral: Referral) -> Referral:
    """The referred person stops their clinician seeing how they are getting on."""
    if referral.user_id != user.pk:
        raise PermissionDenied
    if referral.progress_consent_withdrawn_at is None:
        referral.progress_consent_withdrawn_at = timezone.now()
        referral.save(update_fields=["progress_consent_withdrawn_at"])
    return referral


def referral_attach_user(*, referral: Referral, user: User, new_account: bool) -> bool:
    """The person signed up or signed in from their invitation: the link is used up now."""
    now = timezone.now()
    enrolled = _already_enrolled(user_id=user.pk, programme_id=referral.programme_id)
    used = Referral.objects.filter(
        pk=referral.pk, status__in=Referral.TOKEN_STATUSES, expires_at__gt=now
    ).update(
        user=user,
        new_account=new_account,
        status=Referral.Status.ENROLLED if enrolled else Referral.Status.REGISTERED,
        registered_at=now,
        enrolled_at=now if enrolled else None,
        opened_at=referral.opened_at or now,
    )
    return bool(used)


def referral_record_enrolment(*, enrolment: Enrolment) -> int:
    """A referred person joined the programme: their referrals move on to 'enrolled'."""
    if enrolment.role not in Enrolment.RECIPIENT_ROLES or enrolment.status != "active":
        return 0
    return Referral.objects.filter(
        user_id=enrolment.user_id,
        programme_id=enrolment.programme_id,
        status__in=(Referral.Status.OPENED, Referral.Status.REGISTERED),
    ).update(status=Referral.Status.ENROLLED, enrolled_at=timezone.now())


def referral_mark_active_for_user(*, user_id: int, programme_id: int) -> int:
    """Called by groups and matching when a referred person joins a group or a pairing.

    Moves the person's enrolled referrals to this programme on to 'active'. Safe to call
    more than once; returns how many referrals changed.
    """
    return Referral.objects.filter(
        user_id=user_id, programme_id=programme_id, status=Referral.Status.ENROLLED
    ).update(status=Referral.Status.ACTIVE, active_at=timezone.now())


# --- coordinators ----------------------------------------------------------------------------

TRIAGE_ACTIONS = {
    "accept": Referral.Triage.ACCEPTED,
    "contact": Referral.Triage.CONTACTED,
    "decline": Referral.Triage.DECLINED,
}


def referral_triage(
    *, coordinator: User, referral: Referral, action: str, reason: str = ""
) -> Referral:
    """Accept, mark contacted, or decline (with a reason the clinician will see) a referral."""
    _require_manager(user=coordinator, organisation_id=referral.programme.organisation_id)
    if action not in TRIAGE_ACTIONS:
        raise ValidationError(_("Unknown action."))
    reason = reason.strip()
    if action == "decline" and not reason:
        raise ValidationError(_("Please say why, so the clinician knows."))
    referral.triage = TRIAGE_ACTIONS[action]
    referral.triage_reason = reason if action == "decline" else ""
    referral.triaged_by = coordinator
    referral.triaged_at = timezone.now()
    referral.save(update_fields=["triage", "triage_reason", "triaged_by", "triaged_at"])
    logger.info("referral.triaged", extra={"referral_id": referral.pk, "triage": referral.triage})
    return referral


def referral_note_add(*, coordinator: User, referral: Referral, text: str) -> ReferralNote:
    """A note for the organisation's coordinators only."""
    _require_manager(user=coordinator, organisation_id=referral.programme.organisation_id)
    text = text.strip()
    if not text:
        raise ValidationError(_("Please write a note."))
    return ReferralNote.objects.create(referral=referral, author=coordinator, text=text)


def referrals_by_practice_month(*, programme: Programme, months: int = 6) -> dict:
    """Referrals to a programme per source practice per month, for the last `months` months."""
    now = timezone.localtime()
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month_starts = [first]
    for _i in range(months - 1):
        month_starts.insert(0, (month_starts[0] - timedelta(days=1)).replace(day=1))
    rows = (
        Referral.objects.filter(programme=programme, created_at__gte=month_starts[0])
        .annotate(month=TruncMonth("created_at"))
        .values("practice_id", "practice__name", "month")
        .annotate(count=Count("pk"))
        .order_by("practice__name")
    )
    keys = [m.date() for m in month_starts]
    table: dict[tuple, dict] = {}
    for row in rows:
        name = row["practice__name"] or _("No practice (coordinator's links)")
        counts = table.setdefault((row["practice_id"], name), dict.fromkeys(keys, 0))
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        if month in counts:
            counts[month] += row["count"]
    return {
        "months": keys,
        "rows": [
            {"name": name, "counts": [counts[k] for k in keys], "total": sum(counts.values())}
            for (_pk, name), counts in table.items()
        ],
    }


def clinician_for(user: User) -> Clinician | None:
    if not roles_for(user).is_clinician:
        return None
    return Clinician.objects.select_related("practice", "practice__organisation").get(user=user)
