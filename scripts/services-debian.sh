#!/usr/bin/env bash
# Install (if missing) and start PostgreSQL, Redis and Chromium from Debian's packages,
# and create the database role the tests and the local production stack use.
# Prints the environment to use them, for `eval "$(scripts/services-debian.sh)"`.
set -euo pipefail

SUDO=""
AS_POSTGRES="runuser -u postgres --"
if [ "$(id -u)" != "0" ]; then
  AS_POSTGRES="sudo -u postgres"
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "services-debian.sh needs root or sudo to install packages" >&2; exit 1
  fi
fi

need=()
command -v pg_ctlcluster >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} from Debian's packages..." >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# PostgreSQL: start the distribution's cluster.
PG_VERSION="$(ls /usr/lib/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | grep -q "^$PG_VERSION main"; then
  $SUDO pg_createcluster "$PG_VERSION" main >&2
fi
$SUDO pg_ctlcluster "$PG_VERSION" main start >&2 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
$AS_POSTGRES psql -q -h /var/run/postgresql -tc "SELECT 1 FROM pg_roles WHERE rolname='peersupport'" \
  | grep -q 1 || $AS_POSTGRES psql -q -h /var/run/postgresql \
  -c "CREATE ROLE peersupport LOGIN PASSWORD 'peersupport' CREATEDB" >&2
$AS_POSTGRES psql -q -h /var/run/postgresql -tc "SELECT 1 FROM pg_database WHERE datname='peersupport'" \
  | grep -q 1 || $AS_POSTGRES createdb -h /var/run/postgresql -O peersupport peersupport >&2

# Redis: on loopback only.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" --appendonly no >&2
fi
for _ in $(seq 1 30); do
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
  sleep 0.5
done

cat <<ENV
export DATABASE_URL=postgres://peersupport:peersupport@127.0.0.1:5432/peersupport
export CELERY_BROKER_URL=redis://127.0.0.1:6379/0
export REDIS_URL=redis://127.0.0.1:6379/1
ENV
