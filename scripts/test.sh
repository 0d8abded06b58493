#!/usr/bin/env bash
# Install everything and run the whole test suite: lint, migration check, unit, worker and
# browser tests. Without DATABASE_URL it starts PostgreSQL and Redis from Debian's packages
# (scripts/services-debian.sh); with TEST_SQLITE=1 it runs on SQLite and skips what needs them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.local/bin:$PATH"
scripts/bootstrap.sh

if [ -z "${DATABASE_URL:-}" ] && [ "${TEST_SQLITE:-0}" != "1" ]; then
  eval "$(scripts/services-debian.sh)"
elif [ ! -x /usr/bin/chromium ]; then
  echo "Chromium is missing: browser tests will be skipped (run scripts/services-debian.sh)." >&2
fi

.venv/bin/ruff check .
.venv/bin/python manage.py makemigrations --check --dry-run
set +e
.venv/bin/pytest "$@"
status=$?
set -e
if [ "$status" = "5" ]; then
  echo "No tests ran: that is a failure." >&2
  exit 1
fi
exit "$status"
