#!/bin/sh
# Checks pinned releases of real, correct training code against the reviewed expectations in test/corpus-real/
# (see docs/corpus.md). Arguments go to scripts/corpus-check.ts: --update, --package NAME,...
set -e
cd "$(dirname "$0")/.."
node scripts/build.mjs >/dev/null
exec node --import tsx scripts/corpus-check.ts "$@"
