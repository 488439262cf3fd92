#!/usr/bin/env bash
# DICOM de-identification throughput: Caliper against gdcmanon, Orthanc and a dcmodify loop on
# the same files, in one run (bench/README.md). Inputs: every .dcm of the sample data
# ($CALIPER_SAMPLE_DATA: dicom-series, dicom-seg, the DICOM ECG) plus a generated 500-slice
# 512x512 CT phantom series (build/bench/caliper_ct_phantom).
#
#   bench/dicom_deid.sh                       # BUILD=build, CALIPER_SAMPLE_DATA=../shared/data
#   SLICES=100 JOBS=1 REPEAT=3 bench/dicom_deid.sh
#
# Prints files/s per tool (best of REPEAT) and Caliper's ratio to each. Peers:
#  - gdcmanon (libgdcm-tools): PS3.15 E.1.1 Basic Profile (-e) with a throw-away certificate
#    (it encrypts the removed attributes into Encrypted Attributes Sequence), whole folder in
#    one process (-r).
#  - Orthanc (orthanc): started on loopback with a temporary configuration; each file is
#    uploaded (POST /instances) and anonymised (POST /instances/{id}/anonymize, which returns
#    the de-identified file) over one kept-alive HTTP connection from /usr/bin/python3.
#  - dcmodify (dcmtk): one process per file, removing/emptying the usual identifying tags and
#    generating new UIDs (-gin -gse -gst: fresh random UIDs, so references break).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
DATA="${CALIPER_SAMPLE_DATA:-$ROOT/../shared/data}"
SLICES="${SLICES:-500}"
REPEAT="${REPEAT:-1}"
JOBS="${JOBS:-$(nproc)}"
CALIPER="$BUILD/caliper"
PHANTOM="$BUILD/bench/caliper_ct_phantom"
for tool in "$CALIPER" "$PHANTOM"; do
  [[ -x "$tool" ]] || { echo "dicom_deid.sh: $tool missing; build first" >&2; exit 2; }
done
for tool in gdcmanon dcmodify /usr/sbin/Orthanc curl openssl; do
  command -v "$tool" >/dev/null || { echo "dicom_deid.sh: $tool missing (apt-get install libgdcm-tools dcmtk orthanc curl openssl)" >&2; exit 2; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/caliper-dicom-deid-bench.XXXXXX")"
ORTHANC_PID=""
cleanup() {
  if [[ -n "$ORTHANC_PID" ]]; then kill "$ORTHANC_PID" 2>/dev/null || true; wait "$ORTHANC_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

IN="$WORK/in"
mkdir -p "$IN/samples"
n=0
while IFS= read -r -d '' f; do
  n=$((n + 1)); cp "$f" "$IN/samples/$(printf '%04d' $n).dcm"
done < <(find "$DATA/dicom-series" "$DATA/dicom-seg" "$DATA/waveform/waveform_ecg_12lead.dcm" -name '*.dcm' -type f -print0 | sort -z)
"$PHANTOM" "$IN/phantom" "$SLICES" 512 512 1
FILES=$(find "$IN" -type f | wc -l)
BYTES=$(du -sb "$IN" | cut -f1)
echo "DICOM de-identification benchmark on $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "inputs: $FILES files ($n sample files + $SLICES phantom slices of 512x512), $((BYTES / 1048576)) MiB"

now() { date +%s.%N; }
# best_of CMD...: runs the command REPEAT times (after `prepare`), prints the best wall time.
best=""
best_of() {
  best=""
  for _ in $(seq "$REPEAT"); do
    prepare
    local t0 t1 dt
    t0=$(now); "$@"; t1=$(now)
    dt=$(echo "$t1 - $t0" | bc -l)
    if [[ -z "$best" ]] || (( $(echo "$dt < $best" | bc -l) )); then best=$dt; fi
  done
}
rate() { echo "scale=1; $FILES / $1" | bc -l; }

# --- Caliper
prepare() { rm -rf "$WORK/out-caliper"; }
run_caliper() { "$CALIPER" deid dicom --in "$IN" --out "$WORK/out-caliper" --key-file "$WORK/key" --jobs "$JOBS" 2>/dev/null || true; }
best_of run_caliper
T_CALIPER=$best
OK_CALIPER=$(grep -c '"status":"\(ok\|quarantined\)"' "$WORK/out-caliper/deid-report.jsonl" || true)

# --- gdcmanon (Basic Profile; needs a certificate for the encrypted attributes)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/gdcm.key" -out "$WORK/gdcm.pem" \
  -subj /CN=caliper-bench -days 1 2>/dev/null
prepare() { rm -rf "$WORK/out-gdcm"; mkdir -p "$WORK/out-gdcm"; }
run_gdcm() { gdcmanon -e -r --continue -c "$WORK/gdcm.pem" -i "$IN" -o "$WORK/out-gdcm" >/dev/null 2>&1 || true; }
best_of run_gdcm
T_GDCM=$best
OK_GDCM=$(find "$WORK/out-gdcm" -type f | wc -l)

# --- dcmodify loop (one process per file)
TAGS=(-ea "(0008,0050)" -ea "(0008,0080)" -ea "(0008,0081)" -ea "(0008,0090)" -ea "(0008,1010)"
      -ea "(0008,1030)" -ea "(0008,103e)" -ea "(0008,1048)" -ea "(0008,1050)" -ea "(0008,1070)"
      -ea "(0010,0030)" -ea "(0010,1000)" -ea "(0010,1002)" -ea "(0010,1040)" -ea "(0010,2154)"
      -ea "(0010,21b0)" -ea "(0018,1000)" -ea "(0020,4000)" -ea "(0010,0021)" -ea "(0008,0020)"
      -ma "(0010,0010)=ANONYMOUS" -ma "(0010,0020)=ANON" -ma "(0020,0010)=" -ep -imt -nb
      -gin -gse -gst -ie)
prepare() { rm -rf "$WORK/out-dcmodify"; cp -r "$IN" "$WORK/out-dcmodify"; }
run_dcmodify() {
  find "$WORK/out-dcmodify" -type f -print0 | while IFS= read -r -d '' f; do
    dcmodify "${TAGS[@]}" "$f" >/dev/null 2>&1 || true
  done
}
best_of run_dcmodify
T_DCMODIFY=$best

# --- Orthanc on loopback, upload + anonymize over REST
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/orthanc-db"
cat > "$WORK/orthanc.json" <<EOF
{ "Name": "caliper-bench", "StorageDirectory": "$WORK/orthanc-db", "IndexDirectory": "$WORK/orthanc-db",
  "HttpPort": $PORT, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomServerEnabled": false, "Plugins": [], "HttpServerEnabled": true, "ConcurrentJobs": 2 }
EOF
/usr/sbin/Orthanc "$WORK/orthanc.json" >"$WORK/orthanc.log" 2>&1 &
ORTHANC_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/system" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/system" >/dev/null || { echo "Orthanc did not start:"; tail "$WORK/orthanc.log"; exit 1; }
cat > "$WORK/orthanc_client.py" <<'EOF'
import http.client, json, os, sys
port, root, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port)
ok = failed = 0
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
for i, path in enumerate(files):
    with open(path, "rb") as f:
        conn.request("POST", "/instances", f.read(), {"Content-Type": "application/dicom"})
    r = conn.getresponse(); body = r.read()
    if r.status != 200:
        failed += 1; continue
    iid = json.loads(body)["ID"]
    conn.request("POST", f"/instances/{iid}/anonymize", b"{}", {"Content-Type": "application/json"})
    r = conn.getresponse(); body = r.read()
    if r.status != 200:
        failed += 1; continue
    with open(os.path.join(out, f"{i:05d}.dcm"), "wb") as f:
        f.write(body)
    ok += 1
print(ok, failed)
EOF
prepare() { rm -rf "$WORK/out-orthanc"; mkdir -p "$WORK/out-orthanc"; }
run_orthanc() { /usr/bin/python3 "$WORK/orthanc_client.py" "$PORT" "$IN" "$WORK/out-orthanc" > "$WORK/orthanc.result"; }
best_of run_orthanc
T_ORTHANC=$best
read -r OK_ORTHANC FAILED_ORTHANC < "$WORK/orthanc.result"

printf '\n%-34s %9s %9s %s\n' "tool" "seconds" "files/s" "notes"
printf '%-34s %9.2f %9s %s\n' "caliper deid dicom (--jobs $JOBS)" "$T_CALIPER" "$(rate "$T_CALIPER")" "$OK_CALIPER de-identified"
printf '%-34s %9.2f %9s %s\n' "gdcmanon -e (Basic Profile)" "$T_GDCM" "$(rate "$T_GDCM")" "$OK_GDCM files written"
printf '%-34s %9.2f %9s %s\n' "Orthanc 1.10 upload + anonymize" "$T_ORTHANC" "$(rate "$T_ORTHANC")" "$OK_ORTHANC anonymized, $FAILED_ORTHANC refused"
printf '%-34s %9.2f %9s %s\n' "dcmodify loop" "$T_DCMODIFY" "$(rate "$T_DCMODIFY")" "one process per file"
ratio() { echo "scale=1; $1 / $T_CALIPER" | bc -l; }
echo
echo "Caliper vs gdcmanon: $(ratio "$T_GDCM")x (goal >= 3x)"
echo "Caliper vs Orthanc:  $(ratio "$T_ORTHANC")x (goal >= 10x)"
echo "Caliper vs dcmodify: $(ratio "$T_DCMODIFY")x"
