"""Small helpers shared by the matching views."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404

from programmes.models import Programme


def managed_programme(request, pk: int) -> Programme:
    return get_object_or_404(
        Programme.objects.managed_by(request.user).select_related("organisation"), pk=pk
    )


def report(request, error: ValidationError) -> None:
    """Show a service's refusal as a message."""
    for text in error.messages:
        messages.error(request, text)
