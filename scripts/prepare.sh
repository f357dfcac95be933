#!/usr/bin/env bash
# Prepares what the test suite needs on this machine; `npm test` and `.ci/run` both call it, so
# the logic lives here once (README "Tests"). Installs Debian's chromium and python3-stripe when
# missing (as root, with apt), starts PostgreSQL and creates the `test` database when missing.
# When it cannot (not root, no apt, no PostgreSQL), it stops at once with the command to run.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

say() { printf 'prepare: %s\n' "$*" >&2; }
stop() { say "$*"; exit 1; }

PG_HOST=127.0.0.1
PG_PORT=5432
# TEST_DATABASE_URL points the suite at another PostgreSQL: then it is the caller's to run.
if [ -n "${TEST_DATABASE_URL:-}" ]; then SKIP_PG=1; else SKIP_PG=0; fi

# 1. System packages the tests drive: Debian's Chromium (browser tests), python3-stripe (SDK
#    oracle) and python3-requests (Stripe's guide samples), all under /usr/bin/python3.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
/usr/bin/python3 -c 'import stripe' 2>/dev/null || need+=(python3-stripe)
/usr/bin/python3 -c 'import requests' 2>/dev/null || need+=(python3-requests)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    stop "missing ${need[*]}; run: sudo apt-get update && sudo apt-get install -y ${need[*]}"
  fi
  say "installing ${need[*]} with apt (first run only: a few minutes)"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

# 2. PostgreSQL at 127.0.0.1:5432 with trust auth and a database named test.
if [ "$SKIP_PG" -eq 0 ]; then
  command -v pg_isready >/dev/null 2>&1 ||
    stop "PostgreSQL is not installed; run: sudo apt-get install -y postgresql (or set TEST_DATABASE_URL)"
  if ! pg_isready -h "$PG_HOST" -p "$PG_PORT" -q; then
    if [ "$(id -u)" -ne 0 ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
      stop "PostgreSQL is not running on $PG_HOST:$PG_PORT; run: sudo pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
    fi
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -h "$PG_HOST" -p "$PG_PORT" -q && break; sleep 1; done
    pg_isready -h "$PG_HOST" -p "$PG_PORT" -q || stop "PostgreSQL did not start on $PG_HOST:$PG_PORT"
  fi
  if ! psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -Atc "select 1 from pg_database where datname = 'test'" 2>/dev/null | grep -q 1; then
    say "creating database test"
    createdb -h "$PG_HOST" -p "$PG_PORT" -U postgres test ||
      stop "could not create database test; run: createdb -h $PG_HOST -U postgres test (trust auth for 127.0.0.1 is expected)"
  fi
fi
