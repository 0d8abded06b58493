from __future__ import annotations

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core.management.base import BaseCommand, CommandError

from programmes.demo import DEMO_TOTP_SECRETS


class Command(BaseCommand):
    help = "Print the current two-step sign-in code of a demo coordinator (demo accounts only)."

    def add_arguments(self, parser):
        parser.add_argument("email", nargs="?", default="coordinator@example.org")

    def handle(self, *args, email, **options):
        secret = DEMO_TOTP_SECRETS.get(email)
        if secret is None:
            raise CommandError(f"{email} is not a demo coordinator.")
        code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
        self.stdout.write(code)
