#!/usr/bin/env bash
# Runs Caliper's benchmarks from an existing build and prints their figures. Builds nothing:
#   cmake -S . -B build -G Ninja && ninja -C build
#
#   bench/run.sh                     # everything, defaults
#   BUILD=/path/to/build bench/run.sh
#   HTTP_ARGS="--clients 64 --seconds 10" bench/run.sh
#   SKIP_AUDIT=1 SKIP_HTTP=1 SKIP_QUALITY=1 SKIP_VOLUME=1 SKIP_TILES=1 SKIP_EXPORT=1 bench/run.sh   # only the wrk run
#
# 1. caliper_bench_audit  AuditLog::Append rate (Google Benchmark)
# 2. caliper_bench_http   in-process HTTP load: reads, writes, keep-alive fairness
# 3. quality_bench.sh     agreement vs numpy/statsmodels, STAPLE vs ITK, mask metrics
# 4. caliper_bench_volume 512x512x300 CT from DICOM files: build, first slice PNG, .nii.gz;
#                          against pydicom + numpy (bench/volume_peer.py)
# 5. caliper_bench_tiles  whole-slide Deep Zoom tiles over loopback HTTP, cold and warm cache,
#                          against OpenSlide read_region + JPEG (needs CALIPER_SAMPLE_DATA)
# 6. caliper_bench_export a dataset export of a 10,000-item notes project: build, download, verify
# 7. wrk (if installed)    10 s, 64 connections, GET /api/v1/items/{id} on `caliper serve`
#                          (plain HTTP on loopback), populated through the API with curl
#
# Exit status: non-zero when any benchmark failed or saw failed requests (all still run).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
HTTP_ARGS="${HTTP_ARGS:-}"
WRK_SECONDS="${WRK_SECONDS:-10}"
WRK_CONNECTIONS="${WRK_CONNECTIONS:-64}"
WRK_THREADS="${WRK_THREADS:-2}"
status=0

section() { printf '\n==== %s ====\n' "$*"; }
fail() { echo "run.sh: $*" >&2; status=1; }

for bin in "$BUILD/bench/caliper_bench_audit" "$BUILD/bench/caliper_bench_http" "$BUILD/caliper"; do
  [[ -x "$bin" ]] || { echo "run.sh: $bin is missing; build first (ninja -C $BUILD)" >&2; exit 2; }
done
echo "Caliper benchmarks on $(uname -srm), $(nproc) cores, TMPDIR=${TMPDIR:-/tmp}"

if [[ -z "${SKIP_AUDIT:-}" ]]; then
  section "audit append rate (caliper_bench_audit)"
  "$BUILD/bench/caliper_bench_audit" || fail "caliper_bench_audit failed"
fi

if [[ -z "${SKIP_HTTP:-}" ]]; then
  section "HTTP load in process (caliper_bench_http $HTTP_ARGS)"
  # shellcheck disable=SC2086  # HTTP_ARGS is a list of flags
  "$BUILD/bench/caliper_bench_http" $HTTP_ARGS || fail "caliper_bench_http reported failed requests (exit $?)"
fi

if [[ -z "${SKIP_QUALITY:-}" ]]; then
  section "quality statistics against numpy/statsmodels and ITK (quality_bench.sh)"
  BUILD="$BUILD" "$ROOT/bench/quality_bench.sh" || fail "quality_bench.sh failed"
fi

if [[ -z "${SKIP_VOLUME:-}" ]]; then
  section "imaging: 512x512x300 CT volume and first slice (caliper_bench_volume)"
  "$BUILD/bench/caliper_bench_volume" --peer "$ROOT/bench/volume_peer.py" ||
    fail "caliper_bench_volume failed"
fi

if [[ -z "${SKIP_TILES:-}" ]]; then
  section "whole-slide tiles over HTTP, cold and warm cache, vs OpenSlide (caliper_bench_tiles)"
  "$BUILD/bench/caliper_bench_tiles" || fail "caliper_bench_tiles failed (it needs CALIPER_SAMPLE_DATA)"
fi

if [[ -z "${SKIP_EXPORT:-}" ]]; then
  section "dataset export of a 10,000-item project (caliper_bench_export)"
  "$BUILD/bench/caliper_bench_export" || fail "caliper_bench_export failed"
fi

# ---- wrk against `caliper serve` ---------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  section "wrk: not installed (apt-get install wrk); skipped"
  exit "$status"
fi
for tool in curl jq; do
  command -v "$tool" >/dev/null || { section "wrk: needs $tool; skipped"; exit "$status"; }
done
section "wrk: ${WRK_SECONDS}s, $WRK_CONNECTIONS connections, GET /api/v1/items/{id} on caliper serve"

DATA="$(mktemp -d "${TMPDIR:-/tmp}/caliper-wrk-XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
ADMIN_PW="$("$BUILD/caliper" init --data "$DATA" --json | jq -r .admin_password)"
"$BUILD/caliper" serve --data "$DATA" --set server.tls=false --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  curl -fs "$BASE/healthz" >/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/serve.log" >&2; echo "run.sh: caliper serve exited" >&2; exit 1; }
  sleep 0.1
done

# api METHOD PATH COOKIE CSRF [curl args...]: prints the body; exits unless the status is 2xx.
api() {
  local method="$1" path="$2" cookie="$3" csrf="$4"
  shift 4
  local code
  code="$(curl -s -o "$DATA/body" -w '%{http_code}' -X "$method" -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" \
    "$@" "$BASE$path")"
  [[ "$code" == 2* ]] || { echo "run.sh: $method $path -> $code $(cat "$DATA/body")" >&2; exit 1; }
  cat "$DATA/body"
}
json_api() { local m="$1" p="$2" c="$3" x="$4" body="$5"; api "$m" "$p" "$c" "$x" -H 'Content-Type: application/json' -d "$body"; }
# login USER PASSWORD: sets COOKIE and CSRF.
login() {
  local headers="$DATA/login.headers" body
  body="$(curl -s -D "$headers" -H 'Content-Type: application/json' \
    -d "$(jq -n --arg u "$1" --arg p "$2" '{username:$u,password:$p}')" "$BASE/api/v1/auth/login")"
  CSRF="$(jq -r .csrf_token <<<"$body")"
  COOKIE="$(grep -i '^set-cookie: caliper_session=' "$headers" | sed -E 's/^[^:]*: *([^;]*);.*/\1/')"
  [[ -n "$COOKIE" && "$CSRF" != null ]] || { echo "run.sh: login $1 failed: $body" >&2; exit 1; }
}

PASSWORD="load-test-passphrase-7f3a9c"
login admin "$ADMIN_PW"
PROJECT="$(json_api POST /api/v1/projects "$COOKIE" "$CSRF" '{"name":"wrk"}' | jq -r .id)"
member() {  # member USERNAME ROLE -> prints the user id
  local id
  id="$(json_api POST /api/v1/users "$COOKIE" "$CSRF" \
    "$(jq -n --arg u "$1" --arg p "$PASSWORD" '{username:$u,password:$p}')" | jq -r .id)"
  json_api PUT "/api/v1/projects/$PROJECT/members/$id" "$COOKIE" "$CSRF" \
    "{\"roles\":[\"$2\"],\"scopes\":[\"imaging\"]}" >/dev/null
  echo "$id"
}
member wrk-manager manager >/dev/null
ANNOTATOR="$(member wrk-annotator annotator)"
login wrk-manager "$PASSWORD"
head -c 65536 /dev/urandom >"$DATA/content.bin"
ITEM="$(api POST "/api/v1/projects/$PROJECT/items" "$COOKIE" "$CSRF" \
  -F 'metadata={"data_type":"imaging","modality":"CT","patient_key":"pt-wrk-0001"};type=application/json' \
  -F "content=@$DATA/content.bin;type=application/dicom" | jq -r .id)"
json_api POST "/api/v1/items/$ITEM/assignments" "$COOKIE" "$CSRF" "{\"user_id\":\"$ANNOTATOR\"}" >/dev/null
login wrk-annotator "$PASSWORD"
api GET "/api/v1/items/$ITEM" "$COOKIE" "" >/dev/null  # the session reaches the item

echo "wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d${WRK_SECONDS}s --latency -H 'Cookie: caliper_session=...' $BASE/api/v1/items/$ITEM"
WRK_OUT="$(wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --timeout 10s --latency \
  -H "Cookie: $COOKIE" "$BASE/api/v1/items/$ITEM")" || fail "wrk failed"
echo "$WRK_OUT"
if grep -qE 'Non-2xx|Socket errors' <<<"$WRK_OUT"; then fail "wrk saw errors (above)"; fi
exit "$status"
