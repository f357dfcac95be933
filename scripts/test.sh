#!/usr/bin/env bash
# Runs every *.test.ts under packages/ with Node's test runner (TypeScript through tsx).
# Node 20's --test takes no globs, so the file list is found here.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find packages -path '*/node_modules' -prune -o -name '*.test.ts' -print | sort)
if [ "$#" -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-reporter=spec "${files[@]}"
