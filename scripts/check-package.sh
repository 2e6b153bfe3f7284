#!/usr/bin/env bash
# Pack roomwire, install the tarball into a fresh Fastify app, type-check that app with
# `tsc --strict` (no skipLibCheck) and start it: /rt/health must answer. Ends with "package ok".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$root"
# `npm pack` runs `prepare` (the build) first.
tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
listing=$(tar -tzf "$work/$tarball")
for required in package/dist/src/app.js package/dist/src/app.d.ts package/dist/src/client.d.ts package/drizzle/meta/_journal.json package/public/index.html package/LICENSE package/README.md; do
  grep -qx "$required" <<<"$listing" || { echo "missing from the tarball: $required"; exit 1; }
done
if grep -E '^package/(test|bench|dist/test|dist/bench|src)/' <<<"$listing"; then echo "the tarball ships tests, benchmarks or sources (above)"; exit 1; fi

app="$work/app"
mkdir -p "$app"
cp scripts/package-check/host-app.ts "$app/index.ts"
cat >"$app/package.json" <<JSON
{ "name": "roomwire-host-check", "private": true, "type": "module" }
JSON
cat >"$app/tsconfig.json" <<JSON
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "types": ["node"], "outDir": "out" }, "files": ["index.ts"] }
JSON
cd "$app"
fastify_range=$(node -p "require('$root/package.json').dependencies.fastify")
ts_range=$(node -p "require('$root/package.json').devDependencies.typescript")
npm install --no-audit --no-fund --prefer-offline --loglevel=error \
  "$work/$tarball" "fastify@$fastify_range" socket.io-client "typescript@$ts_range" "@types/node@22"
# No skipLibCheck, so roomwire's declarations (and those they reach: pg, fastify, socket.io) are
# checked too. drizzle-orm's own typings do not pass that (e.g. pg-core/roles.d.ts, mysql-core):
# their errors, and only theirs, are left out, except a missing declaration file (TS7016: `pg`).
errors=$(npx tsc -p . | grep -E 'error TS' | grep -vE '^node_modules/drizzle-orm/.*error TS(2[0-9]{3}|1[0-9]{3}):' || true)
[ -z "$errors" ] || { echo "$errors"; echo "the host app does not type-check against the installed package"; exit 1; }
[ -f out/index.js ] || { echo "tsc emitted nothing"; exit 1; }
# One core busy, as on a loaded machine: registration must still fit Fastify's default timeout.
node -e 'const end = Date.now() + 60000; while (Date.now() < end);' &
busy=$!
trap 'kill $busy 2>/dev/null || true; rm -rf "$work"' EXIT
timeout 60 node out/index.js
kill $busy 2>/dev/null || true
echo "package ok"
