"""Writes for organisations, programmes and enrolments. Views call these; nothing else writes."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import User

from .models import Enrolment, Organisation, Programme, StaffMembership


class ProgrammeNotOpen(ValidationError):
    pass


class AlreadyEnrolled(ValidationError):
    pass


class ProgrammeFull(ValidationError):
    pass


def _unique_slug(name: str) -> str:
    base = slugify(name)[:200] or "programme"
    slug, n = base, 2
    while Programme.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _require_manager(*, user: User, organisation: Organisation) -> None:
    if not Organisation.objects.managed_by(user).filter(pk=organisation.pk).exists():
        raise PermissionDenied


def programme_create(*, user: User, organisation: Organisation, **fields) -> Programme:
    """Create a draft programme in an organisation the user works for."""
    _require_manager(user=user, organisation=organisation)
    fields.pop("status", None)
    return Programme.objects.create(
        organisation=organisation,
        slug=_unique_slug(fields["name"]),
        created_by=user,
        status=Programme.Status.DRAFT,
        **fields,
    )


def programme_update(*, user: User, programme: Programme, **fields) -> Programme:
    """Change a programme's details; a changed privacy notice gets a new version number."""
    _require_manager(user=user, organisation=programme.organisation)
    notice_changed = (
        "privacy_notice" in fields and fields["privacy_notice"] != programme.privacy_notice
    )
    for name, value in fields.items():
        setattr(programme, name, value)
    if notice_changed:
        programme.privacy_notice_version += 1
    programme.save()
    return programme


def programme_set_status(*, user: User, programme: Programme, status: str) -> Programme:
    """Open, close or reopen a programme."""
    _require_manager(user=user, organisation=programme.organisation)
    if status not in Programme.Status.values:
        raise ValidationError(_("Unknown status."))
    programme.status = status
    programme.save(update_fields=["status", "updated_at"])
    return programme


@transaction.atomic
def enrolment_create(
    *,
    user: User,
    programme: Programme,
    role: str,
    consent_version: int,
    assisted_by: User | None = None,
) -> Enrolment:
    """Enrol a person in an open programme, recording consent to the current privacy notice.

    A supporter's enrolment starts as an application; a patient or caregiver is active at once.
    Someone who left earlier is welcomed back on the same record.
    """
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    if not programme.is_open:
        raise ProgrammeNotOpen(_("This programme is not taking new people at the moment."))
    if consent_version != programme.privacy_notice_version:
        raise ValidationError(
            _("The privacy notice has changed. Please read it again and agree to continue.")
        )
    if role not in Enrolment.Role.values:
        raise ValidationError(_("Please choose how you are taking part."))
    new_status = (
        Enrolment.Status.APPLIED if role == Enrolment.Role.SUPPORTER else Enrolment.Status.ACTIVE
    )
    if (
        programme.capacity is not None
        and role != Enrolment.Role.SUPPORTER
        and programme.enrolments.recipients().active().count() >= programme.capacity
    ):
        raise ProgrammeFull(_("Sorry, this programme is full at the moment."))

    existing = Enrolment.objects.filter(programme=programme, user=user, role=role).first()
    if existing is not None:
        if existing.status in (Enrolment.Status.ACTIVE, Enrolment.Status.APPLIED):
            raise AlreadyEnrolled(_("You have already joined this programme."))
        if existing.status == Enrolment.Status.DECLINED:
            raise ValidationError(
                _("Your earlier application was not accepted. Please contact the coordinator.")
            )
        existing.status = new_status
        existing.consent_version = consent_version
        existing.consented_at = timezone.now()
        existing.assisted_by = assisted_by
        existing.left_at = None
        existing.save()
        return existing
    try:
        with transaction.atomic():
            return Enrolment.objects.create(
                programme=programme,
                user=user,
                role=role,
                status=new_status,
                consent_version=consent_version,
                assisted_by=assisted_by,
            )
    except IntegrityError as exc:
        raise AlreadyEnrolled(_("You have already joined this programme.")) from exc


def enrolment_assisted_create(
    *,
    coordinator: User,
    programme: Programme,
    role: str,
    display_name: str,
    email: str | None,
    phone: str,
) -> Enrolment:
    """Enrol someone on their behalf, with their consent given to the coordinator in person.

    People without an e-mail address get an account with no password: the coordinator
    acts for them until they want to sign in themselves.
    """
    _require_manager(user=coordinator, organisation=programme.organisation)
    email = (email or "").strip() or None
    person = User.objects.filter(email__iexact=email).first() if email else None
    with transaction.atomic():
        if person is None:
            person = User.objects.create_user(email=email, display_name=display_name, phone=phone)
        return enrolment_create(
            user=person,
            programme=programme,
            role=role,
            consent_version=programme.privacy_notice_version,
            assisted_by=coordinator,
        )


def enrolment_leave(*, user: User, enrolment: Enrolment) -> Enrolment:
    """A person leaves a programme (their own enrolment only)."""
    if enrolment.user_id != user.pk:
        raise PermissionDenied
    if enrolment.status == Enrolment.Status.LEFT:
        return enrolment
    enrolment.status = Enrolment.Status.LEFT
    enrolment.left_at = timezone.now()
    enrolment.save(update_fields=["status", "left_at"])
    return enrolment


class LastAdmin(ValidationError):
    pass


def _require_admin(*, user: User, organisation: Organisation) -> None:
    if (
        not Organisation.objects.managed_by(user, admin_only=True)
        .filter(pk=organisation.pk)
        .exists()
    ):
        raise PermissionDenied


def organisation_update(*, user: User, organisation: Organisation, **fields) -> Organisation:
    """An organisation admin changes the organisation's name and contact details."""
    _require_admin(user=user, organisation=organisation)
    for name, value in fields.items():
        setattr(organisation, name, value)
    organisation.save(update_fields=list(fields))
    return organisation


@transaction.atomic
def staff_add(
    *, admin: User, organisation: Organisation, email: str, display_name: str, role: str
) -> tuple[StaffMembership, bool]:
    """Give someone a staff role; returns the membership and whether a new account was made.

    A new account has no password: the person sets one through the e-mailed link, and must
    then set up two-step sign-in before they see any programme.
    """
    _require_admin(user=admin, organisation=organisation)
    person = User.objects.filter(email__iexact=email).first()
    created = person is None
    if created:
        person = User.objects.create_user(email=email, display_name=display_name)
    membership, _ = StaffMembership.objects.update_or_create(
        organisation=organisation, user=person, defaults={"role": role}
    )
    return membership, created


@transaction.atomic
def staff_change_role(*, admin: User, membership: StaffMembership, role: str) -> StaffMembership:
    _require_admin(user=admin, organisation=membership.organisation)
    if role not in StaffMembership.Role.values:
        raise ValidationError(_("Unknown role."))
    if membership.role == StaffMembership.Role.ADMIN and role != StaffMembership.Role.ADMIN:
        _ensure_another_admin(membership)
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def staff_remove(*, admin: User, membership: StaffMembership) -> None:
    """Take away someone's staff role in the organisation (their account stays)."""
    _require_admin(user=admin, organisation=membership.organisation)
    if membership.role == StaffMembership.Role.ADMIN:
        _ensure_another_admin(membership)
    membership.delete()


def _ensure_another_admin(membership: StaffMembership) -> None:
    admins = (
        StaffMembership.objects.select_for_update()
        .filter(organisation=membership.organisation, role=StaffMembership.Role.ADMIN)
        .exclude(pk=membership.pk)
    )
    if not admins.exists():
        raise LastAdmin(_("Every organisation needs at least one admin. Add another admin first."))
