#!/usr/bin/env bash
# `npm test`: prepares the machine (scripts/prepare.sh, the same script .ci/run uses), then runs
# every *.test.ts under packages/ with Node's test runner (TypeScript through tsx). Node 20's
# --test takes no globs, so the file list is found here. --test-timeout bounds every test, so one
# hang fails that test instead of stalling the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/prepare.sh
mapfile -t files < <(find packages -path '*/node_modules' -prune -o -name '*.test.ts' -print | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
exec node --conditions=connectd-source --import tsx --test --test-reporter=spec --test-timeout="${TEST_TIMEOUT_MS:-600000}" --test-force-exit "${files[@]}"
