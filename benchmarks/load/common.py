"""Settings shared by the load benchmark's seed and run scripts.

Everything the benchmark touches is its own: the PostgreSQL database `ps_load`, Redis
databases 12 (broker) and 13 (cache), and the folder var/load-bench (pid files, logs,
collected static files, e-mail written to files). Nothing else is read or changed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get(
    "LOAD_DATABASE_URL", "postgres://peersupport:peersupport@127.0.0.1:5432/ps_load"
)
CELERY_BROKER_URL = os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/12")
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/13")
VAR_DIR = Path(os.environ.get("LOAD_VAR_DIR", str(ROOT / "var" / "load-bench")))

# Every seeded person has this password (hashed once, the hash reused), and every seeded
# coordinator this authenticator-app secret, so the benchmark can sign in like a person.
PASSWORD = "load-benchmark-password"  # noqa: S105 - a throwaway benchmark database only
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
EMAIL_DOMAIN = "load.example"
# The seed's marker: present when the dataset is complete.
MARKER_SLUG = "load-benchmark-complete"


def member_email(index: int) -> str:
    return f"member{index}@{EMAIL_DOMAIN}"


def coordinator_email(org_index: int, index: int = 0) -> str:
    return f"coordinator{org_index}-{index}@{EMAIL_DOMAIN}"


def environment() -> dict[str, str]:
    """The environment the seed and the production stack both run with."""
    return {
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": CELERY_BROKER_URL,
        "REDIS_URL": REDIS_URL,
        "VAR_DIR": str(VAR_DIR),
        "STATIC_ROOT": str(VAR_DIR / "staticfiles"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(VAR_DIR / "mail"),
        "SMS_FILE_PATH": str(VAR_DIR / "sms"),
    }


def setup_django() -> None:
    """Point Django at the benchmark's own database and Redis databases, then set it up."""
    os.environ.update(environment())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peersupport.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
