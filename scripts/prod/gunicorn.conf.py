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
# Measured with benchmarks/load/run.py on 2 shared cores (load average 4-6 from other work,
# so +-30 %), 15 s per page, 50 users, req/s and p50/p95 ms:
#   5 x 2 threads: group page 33 rps 560/5000, my sessions 44 rps 450/2700, /healthz 758 rps
#   4 x 2 threads: group page 46 rps 230/4400, my sessions 54 rps 440/2800, /healthz 826 rps
#   4 x 1 (sync):  group page 33 rps 1600/1800, my sessions 42 rps 1100/1600, /healthz 443 rps
#   3 x 1 (sync):  group page 20 rps, my sessions 31 rps: too few processes.
# Threads hurt the tail: a gthread worker accepts connections while its other thread holds
# the GIL rendering a page, so some requests wait behind a busy worker while another idles
# (p95 5-10x p50). Sync workers queue fairly (p95 ~1.2x p50) but drop keep-alive (half the
# req/s of cheap requests) and let a slow phone connection hold a whole worker, so use
# WEB_THREADS=1 only behind a buffering proxy (nginx). The defaults stay 2 x cores + 1 workers
# x 2 threads: 4 x 2 looked better but within the noise of a shared machine.
workers = _int("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1)
threads = _int("WEB_THREADS", 2)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then so a slow leak cannot grow for ever; not too often, since a new
# worker starts with cold connections (every 20 s at 100 requests a second with 2000 cost
# the load benchmark's pages a sixth of their throughput). Workers share requests evenly, so
# a small jitter replaced them all within a second or two and left the site short of workers
# (the load benchmark saw p95 jump to 190 ms): spread the replacements widely.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = max_requests // 2
# Load Django once in the master and fork the workers from it: faster start, less memory,
# and (with peersupport/warmup.py, run by the WSGI module) every view imported and template
# compiled before the fork, so a new worker answers at full speed at once.
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
