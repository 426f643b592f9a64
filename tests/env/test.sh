#!/usr/bin/env bash
# The README's second command and what CI runs: builds everything, starts the private MariaDB
# and runs the whole suite with ctest (its summary is the last line printed).
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
cd "$build"
exec ctest --output-on-failure -j 2 "$@"
