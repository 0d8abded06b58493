from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Enrolment, Organisation, Programme, StaffMembership


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = [
            "organisation",
            "name",
            "summary",
            "description",
            "audience",
            "condition",
            "formats",
            "area",
            "capacity",
            "privacy_notice",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "privacy_notice": forms.Textarea(attrs={"rows": 5}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        organisations = Organisation.objects.managed_by(user)
        self.fields["organisation"].queryset = organisations
        if self.instance.pk or organisations.count() == 1:
            self.fields["organisation"].initial = (
                self.instance.organisation_id if self.instance.pk else organisations.first()
            )
            self.fields["organisation"].widget = forms.HiddenInput()
            if self.instance.pk:
                self.fields["organisation"].disabled = True


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    condition = forms.ChoiceField(label=_("Condition or experience"), required=False)
    format = forms.ChoiceField(
        label=_("Kind of support"),
        required=False,
        choices=[
            ("", _("Any")),
            ("groups", _("Peer groups")),
            ("one_to_one", _("One-to-one buddy")),
        ],
    )

    def __init__(self, *args, conditions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["condition"].choices = [("", _("Any"))] + [(c, c) for c in conditions]


class JoinForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Who is the support for?"),
        choices=[
            (Enrolment.Role.PATIENT, _("For me: I live with the condition")),
            (Enrolment.Role.CAREGIVER, _("I care for someone with the condition")),
        ],
        widget=forms.RadioSelect,
    )
    consent = forms.BooleanField(
        label=_("I have read the privacy notice and I agree to it"),
        error_messages={"required": _("Please tick the box to say you agree, so we can continue.")},
    )
    consent_version = forms.IntegerField(widget=forms.HiddenInput)


class VolunteerForm(forms.Form):
    consent = forms.BooleanField(
        label=_("I have read the privacy notice and I agree to it"),
        error_messages={"required": _("Please tick the box to say you agree, so we can continue.")},
    )
    consent_version = forms.IntegerField(widget=forms.HiddenInput)


class EnrolmentFilterForm(forms.Form):
    q = forms.CharField(label=_("Search by name or e-mail"), required=False)
    role = forms.ChoiceField(
        label=_("Role"), required=False, choices=[("", _("Any"))] + Enrolment.Role.choices
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any"))] + Enrolment.Status.choices
    )


class AssistedEnrolmentForm(forms.Form):
    display_name = forms.CharField(label=_("Their name"), max_length=150)
    email = forms.EmailField(
        label=_("Their e-mail address"),
        required=False,
        help_text=_("Leave empty if they do not use e-mail. You can act for them."),
    )
    phone = forms.CharField(label=_("Their phone number"), max_length=32, required=False)
    role = forms.ChoiceField(
        label=_("How are they taking part?"),
        choices=Enrolment.Role.choices,
        widget=forms.RadioSelect,
    )
    consent = forms.BooleanField(
        label=_(
            "I have explained the privacy notice to them and they agreed to it, "
            "and to me enrolling them"
        ),
    )

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("phone"):
            raise forms.ValidationError(
                _("Please give an e-mail address or a phone number, so we can reach them.")
            )
        return data


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "contact_email", "contact_phone"]


class StaffAddForm(forms.Form):
    display_name = forms.CharField(label=_("Their name"), max_length=150)
    email = forms.EmailField(label=_("Their work e-mail address"))
    role = forms.ChoiceField(
        label=_("Role"), choices=StaffMembership.Role.choices, initial="coordinator"
    )
