"""Labels of a model's choices, translated once per page instead of once per row."""

from __future__ import annotations

from django.db import models


def choice_labels(choices: type[models.Choices]) -> dict[str, str]:
    """{value: label} in the active language. `get_FOO_display()` rebuilds a dict of every
    choice (translating each label) on each call: for a list of rows, translate once."""
    return {value: str(label) for value, label in choices.choices}
