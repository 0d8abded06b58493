#!/usr/bin/env bash
# Install everything and run the whole test suite: lint, migration check, unit, worker and
# browser tests. Without DATABASE_URL it starts PostgreSQL and Redis from Debian's packages
# (scripts/services-debian.sh); with TEST_SQLITE=1 it runs on SQLite and skips what needs them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.local/bin:$PATH"
scripts/bootstrap.sh
# axe-core for the browser tests' accessibility checks, pinned in package-lock.json. Without
# npm the tests use the copy bundled with axe-playwright-python.
if command -v npm >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error || echo "npm ci failed: using the bundled axe-core." >&2
fi

if [ -z "${DATABASE_URL:-}" ] && [ "${TEST_SQLITE:-0}" != "1" ]; then
  eval "$(scripts/services-debian.sh)"
elif [ ! -x /usr/bin/chromium ]; then
  echo "Chromium is missing: browser tests will be skipped (run scripts/services-debian.sh)." >&2
fi

# Run every check, then fail if any of them failed.
failed=()
.venv/bin/ruff check . || failed+=("ruff check")
.venv/bin/python manage.py makemigrations --check --dry-run || failed+=("missing migrations")
set +e
.venv/bin/pytest "$@"
status=$?
set -e
if [ "$status" = "5" ]; then
  failed+=("no tests ran")
elif [ "$status" != "0" ]; then
  failed+=("pytest (exit $status)")
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "All checks passed."
