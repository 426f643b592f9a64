#!/usr/bin/env bash
# Shared first steps of the demo and the test suite: packages, build, private MariaDB.
# Sourced by demo.sh and test.sh; sets $root and $build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${ILCHAT_BUILD_DIR:-$root/build}

"$root/tests/env/packages.sh" install build test
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)"
"$root/tests/env/mariadb.sh" start "$build/mariadb"
# The browser-side clients the integration tests drive (socket.io-client, ws), pinned by the lock.
if [ ! -d "$root/tests/integration/node_modules" ] ||
   [ "$root/tests/integration/package-lock.json" -nt "$root/tests/integration/node_modules" ]; then
  (cd "$root/tests/integration" && npm ci --no-audit --no-fund && touch node_modules)
fi
