from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from .models import Group, SessionSeries

WEEKDAYS = [
    ("", _("Any day")),
    ("0", _("Monday")),
    ("1", _("Tuesday")),
    ("2", _("Wednesday")),
    ("3", _("Thursday")),
    ("4", _("Friday")),
    ("5", _("Saturday")),
    ("6", _("Sunday")),
]
TIMES_OF_DAY = [
    ("", _("Any time")),
    ("morning", _("Morning (before 12 noon)")),
    ("afternoon", _("Afternoon (12 noon to 5pm)")),
    ("evening", _("Evening (after 5pm)")),
]


class GroupFilterForm(forms.Form):
    audience = forms.ChoiceField(
        label=_("Who for"),
        required=False,
        choices=[
            ("", _("Anyone")),
            ("patients", _("People living with the condition")),
            ("caregivers", _("Family and friends who care")),
        ],
    )
    format = forms.ChoiceField(
        label=_("How it meets"),
        required=False,
        choices=[("", _("Any way")), *Group.Format.choices],
    )
    day = forms.ChoiceField(label=_("Day"), required=False, choices=WEEKDAYS)
    time = forms.ChoiceField(label=_("Time of day"), required=False, choices=TIMES_OF_DAY)
    place = forms.CharField(
        label=_("Place"), required=False, max_length=100, help_text=_("For example: a town.")
    )


class GroupForm(forms.ModelForm):
    meeting_link = forms.URLField(
        label=_("Online meeting link"),
        required=False,
        assume_scheme="https",
        help_text=_("Members see it from 15 minutes before each session."),
    )
    facilitators = forms.ModelMultipleChoiceField(
        label=_("Facilitators"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Peer supporters or coordinators who run the group."),
    )

    class Meta:
        model = Group
        fields = [
            "name",
            "description",
            "audience",
            "format",
            "venue_address",
            "accessibility_notes",
            "meeting_link",
            "time_zone",
            "capacity",
            "join_policy",
            "status",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "venue_address": forms.Textarea(attrs={"rows": 3}),
            "accessibility_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilitators"].queryset = candidates
        if self.instance.pk:
            self.fields["facilitators"].initial = list(self.instance.facilitators.all())

    def clean(self):
        data = super().clean()
        fmt = data.get("format")
        if fmt in (Group.Format.IN_PERSON, Group.Format.HYBRID) and not data.get("venue_address"):
            self.add_error("venue_address", _("Please give the address where the group meets."))
        if fmt in (Group.Format.ONLINE, Group.Format.HYBRID) and not data.get("meeting_link"):
            self.add_error("meeting_link", _("Please give the link for the online meeting."))
        return data


class SeriesForm(forms.ModelForm):
    last_weekday_of_month = forms.BooleanField(
        label=_("Monthly: on the last of that weekday in the month"),
        required=False,
        help_text=_(
            "Otherwise a monthly group meets on the same week as the first date, "
            "for example the second Tuesday."
        ),
    )

    class Meta:
        model = SessionSeries
        fields = ["frequency", "start_date", "start_time", "duration_minutes", "end_date"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
            "start_time": forms.TimeInput(attrs={"type": "time"}),
        }
        help_texts = {"start_time": _("Local time where the group meets.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["last_weekday_of_month"].initial = self.instance.nth_weekday == -1


class SessionChangeForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    duration_minutes = forms.IntegerField(label=_("Length in minutes"), min_value=1, max_value=600)
    capacity = forms.IntegerField(
        label=_("Places at this session"),
        min_value=1,
        required=False,
        help_text=_(
            "Leave empty to use the group's number of places. With fewer places than "
            "members, members save a place on the group page, first come first served."
        ),
    )


class AddMemberForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates


class ThreadForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=150)
    body = forms.CharField(
        label=_("Your message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )


class ReportForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong with this post?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only the group's facilitators and coordinators see this."),
    )
