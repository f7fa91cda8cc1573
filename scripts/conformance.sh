#!/usr/bin/env bash
# Runs Okta's SCIM 2.0 test specifications, unedited, against the built
# daemon in dev mode. Needs node and curl, and the shared/ checkout.
set -euo pipefail

SHARED=${SHARED:-../shared}
BIN=${BIN:-bin/bridge}
tool="$SHARED/tools/okta-scim-spec"
specs=("$SHARED/peers/scim/Okta-SCIM-20-SPEC-Test.json" "$SHARED/peers/scim/Okta-SCIM-20-CRUD-Test.json")

if [ ! -x "$tool" ] || [ ! -f "${specs[0]}" ]; then
  echo "conformance: $SHARED (with tools/okta-scim-spec and peers/scim/) is missing; set SHARED=/path/to/shared" >&2
  exit 2
fi
for cmd in node curl; do
  command -v "$cmd" >/dev/null || { echo "conformance: $cmd is required" >&2; exit 2; }
done

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$BIN" serve --dev --data "$work/data" --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
pid=$!

base=
for _ in $(seq 1 200); do
  base=$(sed -n 's/^  SCIM base URL : //p' "$work/out")
  [ -n "$base" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "conformance: daemon exited:" >&2; cat "$work/log" >&2; exit 1; }
  sleep 0.05
done
[ -n "$base" ] || { echo "conformance: daemon did not start" >&2; cat "$work/log" >&2; exit 1; }
token=$(cat "$work/data/dev-scim-token")

# The SPEC test reads Resources[0] of the user list: it needs one user there.
curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/scim+json' \
  -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"seed.user@example.com","name":{"givenName":"Seed","familyName":"User"},"emails":[{"value":"seed.user@example.com","type":"work","primary":true}],"active":true}' \
  "$base/Users"

status=0
for spec in "${specs[@]}"; do
  echo "== $(basename "$spec")"
  node "$tool" --base-url "$base" --token "$token" --spec "$spec" || status=1
done
if [ "$status" -ne 0 ]; then
  echo "conformance: failures; daemon log follows" >&2
  tail -n 50 "$work/log" >&2
fi
exit "$status"
