"""Gunicorn settings for the production stack (Docker and scripts/prod.sh alike).

Every value can be changed from the environment: WEB_CONCURRENCY (worker processes, default
2 x cores + 1), WEB_THREADS (threads per worker), PORT or GUNICORN_BIND, GUNICORN_TIMEOUT,
GUNICORN_MAX_REQUESTS, GUNICORN_PRELOAD, GUNICORN_ACCESS_LOG ("false" turns the access log
off) and FORWARDED_ALLOW_IPS (addresses of the proxies whose X-Forwarded-* headers are
trusted).
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _int("WEB_THREADS", 2)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so a slow leak cannot grow for ever.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# Load Django once in the master and fork the workers from it: faster start, less memory.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in {"1", "true", "yes", "on"}
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The heartbeat file must live in memory, not on a container's overlay file system.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# One JSON line per request (method, path without query string, status, time, request id),
# written through Django's LOGGING by peersupport.logging.GunicornLogger.
logger_class = "peersupport.logging.GunicornLogger"
accesslog = (
    "-"
    if os.environ.get("GUNICORN_ACCESS_LOG", "true").lower() in {"1", "true", "yes", "on"}
    else None
)
errorlog = "-"
# No control socket: it lives in the home directory, which several servers on one machine
# (or a read-only container) would share.
control_socket_disable = True
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

if os.environ.get("LOG_JSON", "").lower() in {"1", "true", "yes", "on"}:
    # Gunicorn's own messages (booting, worker restarts) as JSON lines too.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            }
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
    }
