#!/usr/bin/env bash
# The production stack without Docker, on a Debian machine: PostgreSQL and Redis from the
# distribution (scripts/services-debian.sh), migrations, collectstatic, then gunicorn on
# 127.0.0.1:$PORT, one Celery worker and Celery beat, with DJANGO_ENV=production.
#
#   scripts/prod.sh start    start in the background, wait until /readyz answers (default)
#   scripts/prod.sh run      the same in the foreground; Ctrl+C stops everything
#   scripts/prod.sh stop     stop what `start` started
#   scripts/prod.sh status   say what is running
#
# Settings come from the environment (see .env.example). Unset DATABASE_URL, CELERY_BROKER_URL
# or REDIS_URL are taken from scripts/services-debian.sh. Without SECRET_KEY a random key is
# made once and kept in $VAR_DIR/prod/secret_key. The defaults suit loopback (plain HTTP):
# secure cookies, HSTS and the HTTPS redirect are off unless you turn them on.
# Pid files and logs (JSON lines) live in $VAR_DIR/prod/ (VAR_DIR defaults to ./var).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
export PATH="$HOME/.local/bin:$PATH"

action="${1:-start}"
export VAR_DIR="${VAR_DIR:-$ROOT/var}"
PROD_DIR="$VAR_DIR/prod"
LOG_DIR="$PROD_DIR/log"
PORT="${PORT:-8000}"
PROCESSES=(web worker beat)
STOP_TIMEOUT="${STOP_TIMEOUT:-40}"

pid_of() {
  local file="$PROD_DIR/$1.pid"
  [ -f "$file" ] || return 1
  local pid
  pid="$(cat "$file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

stop_all() {
  local name pid pids=()
  for name in "${PROCESSES[@]}"; do
    if pid="$(pid_of "$name")"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  local deadline=$((SECONDS + STOP_TIMEOUT))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "process $pid did not stop in ${STOP_TIMEOUT}s: killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for name in "${PROCESSES[@]}"; do rm -f "$PROD_DIR/$name.pid"; done
}

case "$action" in
  stop)
    stop_all
    echo "Stopped."
    exit 0
    ;;
  status)
    status=0
    for name in "${PROCESSES[@]}"; do
      if pid="$(pid_of "$name")"; then echo "$name running (pid $pid)"; else echo "$name stopped"; status=3; fi
    done
    exit "$status"
    ;;
  start | run) ;;
  *)
    echo "usage: scripts/prod.sh [start|run|stop|status]" >&2
    exit 2
    ;;
esac

for name in "${PROCESSES[@]}"; do
  if pid="$(pid_of "$name")"; then
    echo "$name is already running (pid $pid): scripts/prod.sh stop first" >&2
    exit 1
  fi
done

# SKIP_INSTALL=1 when the locked dependencies are already installed (CI, tests, benchmarks).
[ "${SKIP_INSTALL:-0}" = "1" ] || scripts/bootstrap.sh >&2

# Servers: whatever the environment names, the distribution's PostgreSQL and Redis otherwise.
if [ -z "${DATABASE_URL:-}" ] || [ -z "${CELERY_BROKER_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  given_database="${DATABASE_URL:-}" given_broker="${CELERY_BROKER_URL:-}" given_cache="${REDIS_URL:-}"
  eval "$(scripts/services-debian.sh)"
  DATABASE_URL="${given_database:-$DATABASE_URL}"
  CELERY_BROKER_URL="${given_broker:-$CELERY_BROKER_URL}"
  REDIS_URL="${given_cache:-$REDIS_URL}"
fi
export DATABASE_URL CELERY_BROKER_URL REDIS_URL

mkdir -p "$PROD_DIR" "$LOG_DIR"
chmod 700 "$PROD_DIR"
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s "$PROD_DIR/secret_key" ]; then
    (umask 077 && python3 -c 'import secrets; print(secrets.token_urlsafe(50))' >"$PROD_DIR/secret_key")
  fi
  SECRET_KEY="$(cat "$PROD_DIR/secret_key")"
fi
export SECRET_KEY
export DJANGO_ENV=production
export PORT
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost,127.0.0.1}"
export SITE_URL="${SITE_URL:-http://localhost:$PORT}"
export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-false}"
export SESSION_COOKIE_SECURE="${SESSION_COOKIE_SECURE:-false}"
export CSRF_COOKIE_SECURE="${CSRF_COOKIE_SECURE:-false}"
export SECURE_HSTS_SECONDS="${SECURE_HSTS_SECONDS:-0}"
export LOG_JSON="${LOG_JSON:-true}"
export STATIC_ROOT="${STATIC_ROOT:-$ROOT/staticfiles}"
export GUNICORN_BIND="127.0.0.1:$PORT"

PY="$ROOT/.venv/bin/python"
# Byte-compile the dependencies and the project once here (quick when nothing changed), so a
# new web worker never compiles modules from source, even where PYTHONDONTWRITEBYTECODE is set.
$PY -m compileall -q -j 0 "$($PY -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
  accounts groups matching notifications peersupport programmes referrals >/dev/null ||
  echo "Some modules could not be byte-compiled; they will be compiled as they are imported." >&2
# Migrations, then static files (collected again only when they changed).
$PY scripts/prod/deploy.py --collectstatic >"$LOG_DIR/deploy.log" 2>&1 || {
  cat "$LOG_DIR/deploy.log" >&2
  exit 1
}

# Each process gets its own session, so it outlives this script (start) and can be signalled
# on its own; its pid goes into $PROD_DIR/<name>.pid.
launch() {
  local name="$1"
  shift
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$PROD_DIR/$name.pid"
}
launch web "$ROOT/.venv/bin/gunicorn" peersupport.wsgi:application -c scripts/prod/gunicorn.conf.py
launch worker "$ROOT/.venv/bin/celery" -A peersupport --quiet worker --loglevel=INFO \
  --concurrency="${CELERY_CONCURRENCY:-2}" --hostname="worker-$PORT@%h"
launch beat "$ROOT/.venv/bin/celery" -A peersupport --quiet beat --loglevel=INFO \
  --schedule="$PROD_DIR/celerybeat-schedule"

if [ "$action" = "run" ]; then
  trap 'trap - INT TERM EXIT; stop_all' INT TERM EXIT
fi

if ! $PY scripts/prod/probe.py /readyz --port "$PORT" --wait "${READY_TIMEOUT:-60}"; then
  echo "The stack did not become ready; the end of $LOG_DIR/web.log:" >&2
  tail -n 30 "$LOG_DIR/web.log" >&2 || true
  [ "$action" = "run" ] || stop_all
  exit 1
fi
for name in "${PROCESSES[@]}"; do
  if ! pid_of "$name" >/dev/null; then
    echo "$name stopped while starting; the end of $LOG_DIR/$name.log:" >&2
    tail -n 30 "$LOG_DIR/$name.log" >&2 || true
    [ "$action" = "run" ] || stop_all
    exit 1
  fi
done

cat <<INFO
Peer Support (production settings) is running at http://127.0.0.1:$PORT/
  logs:  $LOG_DIR/web.log, worker.log, beat.log (JSON lines)
  pids:  $PROD_DIR/web.pid, worker.pid, beat.pid
INFO

if [ "$action" = "run" ]; then
  echo "Press Ctrl+C to stop."
  while true; do
    for name in "${PROCESSES[@]}"; do
      if ! pid_of "$name" >/dev/null; then
        echo "$name stopped; see $LOG_DIR/$name.log" >&2
        exit 1
      fi
    done
    sleep 2
  done
else
  echo "Stop it with: scripts/prod.sh stop"
fi
