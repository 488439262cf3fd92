#!/usr/bin/env bash
# DICOM de-identification throughput: Caliper against gdcmanon, Orthanc and a dcmodify loop on
# the same files, in one run (bench/README.md). Inputs: every .dcm of the sample data
# ($CALIPER_SAMPLE_DATA: dicom-series, dicom-seg, the DICOM ECG) plus a generated 500-slice
# 512x512 CT phantom series (build/bench/caliper_ct_phantom).
#
#   bench/dicom_deid.sh                       # BUILD=build, CALIPER_SAMPLE_DATA=../shared/data
#   SLICES=100 JOBS=1 REPEAT=3 bench/dicom_deid.sh
#
# Prints, per tool, wall seconds (best of REPEAT), files/s, the CPU seconds of that run (user +
# sys, children and, for Orthanc, the server included: the machine may be shared, and CPU time
# is what load does not inflate), and Caliper's ratio to each peer. Peers:
#  - gdcmanon (libgdcm-tools): PS3.15 E.1.1 Basic Profile (-e) with a throw-away certificate
#    (it encrypts the removed attributes into Encrypted Attributes Sequence), one process over
#    the folder (-r). It stops at the first file it cannot de-identify, even with --continue,
#    so the files it accepts are found first (untimed) and it is timed on those.
#  - Orthanc (orthanc): started on loopback with a temporary configuration; each file is
#    uploaded (POST /instances) and anonymised (POST /instances/{id}/anonymize, which returns
#    the de-identified file) over one kept-alive HTTP connection from /usr/bin/python3.
#    Orthanc refuses files with empty UIDs (the TotalSegmentator series).
#  - dcmodify (dcmtk): one process per file, emptying/replacing the usual identifying tags and
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
for tool in gdcmanon dcmodify /usr/sbin/Orthanc curl openssl bc /usr/bin/time; do
  command -v "$tool" >/dev/null || {
    echo "dicom_deid.sh: $tool missing (apt-get install libgdcm-tools dcmtk orthanc curl openssl bc time)" >&2
    exit 2
  }
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
echo "inputs: $FILES files ($n sample files + $SLICES phantom slices of 512x512), $((BYTES / 1048576)) MiB; best of $REPEAT"

# measure NAME CMD...: runs CMD REPEAT times (each after `prepare`); keeps the best wall time,
# the CPU seconds of that run and their user-space part in WALL_NAME, CPU_NAME and USER_NAME. When EXTRA_CPU names a function,
# the CPU seconds it reports (a server's) are added for the duration of the run.
# Each run writes to a folder of its own, $OUT (@OUT@ in CMD), which `prepare` may fill; no
# output is deleted until the end. On ext4 without a journal (the shared machine's root file
# system) a new file skips every inode freed in the last 60 s (6 min while its inode table
# block is dirty), one buffer-cache lookup each: deleting the previous run's 600 outputs just
# before the next timed run cost up to 40% of a tool's CPU, in the kernel's inode allocation.
# The earlier runs' written pages are flushed (sync) before each run, so no tool pays for
# another's writeback.
measure() {
  local name=$1; shift
  local best="" best_cpu="" best_user="" before after wall user sys cpu rep
  for rep in $(seq "$REPEAT"); do
    OUT="$WORK/out-$name.$rep"
    prepare
    sync
    before=0; [[ -n "${EXTRA_CPU:-}" ]] && before=$($EXTRA_CPU)
    /usr/bin/time -f "%e %U %S" -o "$WORK/time" "${@//@OUT@/$OUT}"
    after=0; [[ -n "${EXTRA_CPU:-}" ]] && after=$($EXTRA_CPU)
    read -r wall user sys < <(tail -1 "$WORK/time")
    cpu=$(echo "$user + $sys + $after - $before" | bc -l)
    if [[ -z "$best" ]] || (( $(echo "$wall < $best" | bc -l) )); then best=$wall; best_cpu=$cpu; best_user=$user; fi
  done
  printf -v "WALL_$name" '%s' "$best"
  printf -v "CPU_$name" '%s' "$best_cpu"
  printf -v "USER_$name" '%s' "$best_user"
}

# --- Caliper
prepare() { :; }
measure CALIPER sh -c "'$CALIPER' deid dicom --in '$IN' --out '@OUT@' --key-file '$WORK/key' --jobs $JOBS 2>/dev/null || true"
OK_CALIPER=$(grep -c '"status":"\(ok\|quarantined\)"' "$OUT/deid-report.jsonl" || true)
N_CALIPER=$FILES

# --- gdcmanon
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/gdcm.key" -out "$WORK/gdcm.pem" \
  -subj /CN=caliper-bench -days 1 2>/dev/null
IN_GDCM="$WORK/in-gdcm"
mkdir -p "$IN_GDCM"
while IFS= read -r -d '' f; do
  rel=${f#"$IN"/}
  if gdcmanon -e -c "$WORK/gdcm.pem" -i "$f" -o "$WORK/probe.dcm" >/dev/null 2>&1; then
    mkdir -p "$IN_GDCM/$(dirname "$rel")"; cp "$f" "$IN_GDCM/$rel"
  fi
done < <(find "$IN" -type f -print0)
N_GDCM=$(find "$IN_GDCM" -type f | wc -l)
prepare() { mkdir -p "$OUT"; }
measure GDCM sh -c "gdcmanon -e -r --continue -c '$WORK/gdcm.pem' -i '$IN_GDCM' -o '@OUT@' >/dev/null 2>&1 || true"
OK_GDCM=$(find "$OUT" -type f | wc -l)
# Caliper on exactly the files gdcmanon accepts, for a like-for-like ratio.
prepare() { :; }
measure CALIPER_G sh -c "'$CALIPER' deid dicom --in '$IN_GDCM' --out '@OUT@' --key-file '$WORK/key' --jobs $JOBS 2>/dev/null || true"
# The floor: copying the same files with no de-identification at all (coreutils cp, which
# creates each file and has the kernel copy its bytes, as Caliper does for the pixel data).
measure COPY cp -r "$IN_GDCM" @OUT@

# --- dcmodify loop
cat > "$WORK/dcmodify_loop.sh" <<'LOOP'
#!/bin/sh
find "$1" -type f | while read -r f; do
  dcmodify -ea "(0008,0050)" -ea "(0008,0080)" -ea "(0008,0081)" -ea "(0008,0090)" \
    -ea "(0008,1010)" -ea "(0008,1030)" -ea "(0008,103e)" -ea "(0008,1048)" -ea "(0008,1050)" \
    -ea "(0008,1070)" -ea "(0010,0030)" -ea "(0010,1000)" -ea "(0010,1002)" -ea "(0010,1040)" \
    -ea "(0010,2154)" -ea "(0010,21b0)" -ea "(0018,1000)" -ea "(0020,4000)" -ea "(0010,0021)" \
    -ea "(0008,0020)" -ma "(0010,0010)=ANONYMOUS" -ma "(0010,0020)=ANON" -ma "(0020,0010)=" \
    -imt -nb -gin -gse -gst -ie "$f" >/dev/null 2>&1 || true
done
LOOP
prepare() { cp -r "$IN" "$OUT"; }
measure DCMODIFY sh "$WORK/dcmodify_loop.sh" @OUT@
N_DCMODIFY=$FILES

# --- Orthanc on loopback
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/orthanc-db"
printf '{ "Name": "caliper-bench", "StorageDirectory": "%s", "IndexDirectory": "%s", "HttpPort": %s,
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false, "DicomServerEnabled": false,
  "Plugins": [] }\n' "$WORK/orthanc-db" "$WORK/orthanc-db" "$PORT" > "$WORK/orthanc.json"
/usr/sbin/Orthanc "$WORK/orthanc.json" >"$WORK/orthanc.log" 2>&1 &
ORTHANC_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/system" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/system" >/dev/null || { echo "Orthanc did not start:"; tail "$WORK/orthanc.log"; exit 1; }
cat > "$WORK/orthanc_client.py" <<'PYTHON'
import http.client, json, os, sys
port, root, out, result = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
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
with open(result, "w") as f:
    f.write(f"{ok} {failed}\n")
PYTHON
orthanc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$ORTHANC_PID/stat"; }
prepare() { mkdir -p "$OUT"; }
EXTRA_CPU=orthanc_cpu measure ORTHANC /usr/bin/python3 "$WORK/orthanc_client.py" "$PORT" "$IN" @OUT@ "$WORK/orthanc.result"
read -r OK_ORTHANC FAILED_ORTHANC < "$WORK/orthanc.result"
N_ORTHANC=$FILES

rate() { echo "scale=1; $1 / $2" | bc -l; }
# The user-space CPU ("user s") is the tool's own work; the rest of "CPU s" is the kernel's
# (reading and writing the files, which every tool does alike).
row() { printf '%-34s %6s %9.2f %9s %9.2f %9.2f  %s\n' "$1" "$2" "$3" "$(rate "$2" "$3")" "$4" "$5" "$6"; }
printf '\n%-34s %6s %9s %9s %9s %9s  %s\n' "tool" "files" "wall s" "files/s" "CPU s" "user s" "notes"
row "caliper deid dicom (--jobs $JOBS)" "$N_CALIPER" "$WALL_CALIPER" "$CPU_CALIPER" "$USER_CALIPER" "$OK_CALIPER de-identified, the rest reported as errors"
row "caliper, gdcmanon's files" "$N_GDCM" "$WALL_CALIPER_G" "$CPU_CALIPER_G" "$USER_CALIPER_G" "the same files as the next row"
row "gdcmanon -e (Basic Profile)" "$N_GDCM" "$WALL_GDCM" "$CPU_GDCM" "$USER_GDCM" "the files it accepts; $OK_GDCM written"
row "Orthanc upload + anonymize" "$N_ORTHANC" "$WALL_ORTHANC" "$CPU_ORTHANC" "$USER_ORTHANC" "$OK_ORTHANC anonymized, $FAILED_ORTHANC refused; CPU: client + server; user s: client only"
row "dcmodify loop" "$N_DCMODIFY" "$WALL_DCMODIFY" "$CPU_DCMODIFY" "$USER_DCMODIFY" "one process per file"
row "cp -r (copy, no de-identification)" "$N_GDCM" "$WALL_COPY" "$CPU_COPY" "$USER_COPY" "gdcmanon's files: the floor for writing them"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# Caliper's advantage in time per file, by wall time and by CPU time (against gdcmanon on the
# files gdcmanon accepts, against the others on all files).
per_file() { echo "scale=6; $1 / $2" | bc -l; }
times_faster() {
  local ours; ours=$(per_file "$3" "$4")
  if (( $(echo "$ours == 0" | bc -l) )); then echo "(below the timer's 0.01 s)"; return; fi
  echo "scale=1; $(per_file "$1" "$2") / $ours" | bc -l | sed 's/^\./0./'
}
printf 'Caliper vs gdcmanon: %6sx by wall time, %6sx by CPU time, %6sx by user CPU  (goal >= 3x)\n' \
  "$(times_faster "$WALL_GDCM" "$N_GDCM" "$WALL_CALIPER_G" "$N_GDCM")" \
  "$(times_faster "$CPU_GDCM" "$N_GDCM" "$CPU_CALIPER_G" "$N_GDCM")" \
  "$(times_faster "$USER_GDCM" "$N_GDCM" "$USER_CALIPER_G" "$N_GDCM")"
printf 'The floor (cp -r) vs gdcmanon: %6sx by wall time, %6sx by CPU time  (by CPU, no tool writing these files beats gdcmanon by more)\n' \
  "$(times_faster "$WALL_GDCM" "$N_GDCM" "$WALL_COPY" "$N_GDCM")" \
  "$(times_faster "$CPU_GDCM" "$N_GDCM" "$CPU_COPY" "$N_GDCM")"
printf 'Caliper vs Orthanc:  %6sx by wall time, %6sx by CPU time  (goal >= 10x)\n' \
  "$(times_faster "$WALL_ORTHANC" "$N_ORTHANC" "$WALL_CALIPER" "$N_CALIPER")" \
  "$(times_faster "$CPU_ORTHANC" "$N_ORTHANC" "$CPU_CALIPER" "$N_CALIPER")"
printf 'Caliper vs dcmodify: %6sx by wall time, %6sx by CPU time\n' \
  "$(times_faster "$WALL_DCMODIFY" "$N_DCMODIFY" "$WALL_CALIPER" "$N_CALIPER")" \
  "$(times_faster "$CPU_DCMODIFY" "$N_DCMODIFY" "$CPU_CALIPER" "$N_CALIPER")"
