"""The deploy step: apply migrations and, with --collectstatic, collect static files.

Runs both in one Python process (Django starts once). Static files are collected again only
when a source file, the storage or STATIC_URL has changed since the last collection: a
fingerprint of them is kept next to the collected files.

    python scripts/prod/deploy.py [--collectstatic] [--no-migrate]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FINGERPRINT_NAME = ".sources-fingerprint"


def static_sources_fingerprint() -> str:
    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256()
    digest.update(f"{settings.STORAGES['staticfiles']['BACKEND']}|{settings.STATIC_URL}".encode())
    entries = []
    for finder in get_finders():
        for path, storage in finder.list(["CVS", ".*", "*~"]):
            stat = os.stat(storage.path(path))
            entries.append(f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ctime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode())
    return digest.hexdigest()


def collect_static() -> None:
    from django.conf import settings
    from django.core.management import call_command

    static_root = Path(settings.STATIC_ROOT)
    fingerprint_file = static_root / FINGERPRINT_NAME
    fingerprint = static_sources_fingerprint()
    # The fingerprint is written after a successful collection, inside STATIC_ROOT: emptying
    # that folder removes it too.
    if fingerprint_file.exists() and fingerprint_file.read_text().strip() == fingerprint:
        print("Static files are up to date.")
        return
    call_command("collectstatic", interactive=False, verbosity=1)
    fingerprint_file.write_text(fingerprint + "\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--collectstatic", action="store_true")
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersupport.settings")
    import django
    from django.core.management import call_command

    django.setup()
    if not args.no_migrate:
        call_command("migrate", interactive=False)
    if args.collectstatic:
        collect_static()
    return 0


if __name__ == "__main__":
    sys.exit(main())
