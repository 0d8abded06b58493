#!/usr/bin/env bash
# The embedded demo: SQLite, a filesystem Celery broker, e-mail written to var/mail.
# Starts the web server, a Celery worker and Celery beat; Ctrl+C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.local/bin:$PATH"
scripts/bootstrap.sh
PORT="${PORT:-8000}"
export SITE_URL="${SITE_URL:-http://localhost:$PORT}"
export ACCOUNT_EMAIL_VERIFICATION="${ACCOUNT_EMAIL_VERIFICATION:-optional}"
PY=".venv/bin/python"
$PY manage.py migrate --noinput
$PY manage.py seed_demo
VAR="${VAR_DIR:-var}"
mkdir -p "$VAR/log" "$VAR/mail"

pids=()
cleanup() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup INT TERM EXIT

.venv/bin/celery -A peersupport worker --loglevel=INFO --concurrency=2 >"$VAR/log/worker.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A peersupport beat --loglevel=INFO >"$VAR/log/beat.log" 2>&1 &
pids+=($!)
$PY manage.py runserver "127.0.0.1:$PORT" --noreload >"$VAR/log/web.log" 2>&1 &
pids+=($!)

cat <<INFO

  Peer Support is running at http://localhost:$PORT/

  Demo logins (password for all: peer-support-demo)
    Coordinator (org admin):  coordinator@example.org   two-step code: make demo-code
    Coordinator:              coordinator2@example.org  two-step code: make demo-code EMAIL=coordinator2@example.org
    Clinician:                clinician@example.org
    Peer supporter:           supporter1@example.org    (supporter1..supporter12)
    Member:                   member1@example.org       (member1..member40)

  E-mails the platform sends are written to $VAR/mail/.
  Logs: $VAR/log/web.log, worker.log and beat.log
  Press Ctrl+C to stop.

INFO
wait -n "${pids[@]}"
echo "A process stopped; see $VAR/log/ for why." >&2
