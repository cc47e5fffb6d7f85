#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: lint, types, tests.
# PostgreSQL at 127.0.0.1:5432 is started if it is down (the replication tests need it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
        echo "test: starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
        for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
fi

# openssl makes the throw-away CA of the TLS replication test (tests/sync/tls_cluster.py)
if ! command -v openssl >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "test: installing openssl"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null \
            || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null; }
    else
        echo "test: openssl is missing; the TLS replication test will be skipped (apt-get install openssl)" >&2
    fi
fi

export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
