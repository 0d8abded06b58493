from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

from peersupport.nav import LOCAL_APPS
from programmes import demo


class Command(BaseCommand):
    help = "Load the demo organisation, people, programmes and what each app adds. Safe to re-run."

    def handle(self, *args, **options):
        with transaction.atomic():
            context = demo.seed()
            for app in LOCAL_APPS:
                if app == "programmes":
                    continue
                try:
                    module = importlib.import_module(f"{app}.demo")
                except ModuleNotFoundError:
                    continue
                module.seed(context)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
