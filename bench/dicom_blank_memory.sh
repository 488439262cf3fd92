#!/usr/bin/env bash
# Peak memory of `caliper deid dicom` blanking a large ultrasound cine (bench/README.md): the
# phantom of build/bench/caliper_us_phantom (8-bit RGB, FRAMES frames of ROWS x COLS, default
# 200 x 512 x 512: 157 MB of native pixels) in each transfer syntax Caliper decodes for
# blanking, de-identified alone (--jobs 1) with a rule that meets every frame.
#
#   bench/dicom_blank_memory.sh                     # BUILD=build
#   FRAMES=50 KEY=/tmp/k.key KEEP=/tmp/outs bench/dicom_blank_memory.sh
#     KEEP: copy each output there as <syntax UID>.dcm; with the same KEY file, two builds' outputs
#     can be compared with cmp (a fresh key is made otherwise)
#
# Prints, per syntax, the input's size, the native pixel size, the peak resident set size of the
# process (`/usr/bin/time -v`, "Maximum resident set size") and that peak over the native size;
# first the peak of the same command on a 1-frame 16 x 16 cine (what the process needs anyway).
# MB are 10^6 bytes.
set -euo pipefail
BUILD="${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}"
CALIPER="$BUILD/caliper"
for tool in "$CALIPER" "$BUILD/bench/caliper_us_phantom" /usr/bin/time; do
  [[ -x "$tool" ]] || { echo "dicom_blank_memory.sh: $tool missing (build first; apt-get install time)" >&2; exit 2; }
done
PHANTOM="$BUILD/bench/caliper_us_phantom" FRAMES="${FRAMES:-200}" ROWS="${ROWS:-512}" COLS="${COLS:-512}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/caliper-blank-memory.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
KEY="${KEY:-$WORK/key}"
NATIVE=$((FRAMES * ROWS * COLS * 3))

# Peak RSS in KiB of de-identifying the one file $1 with the blanking rule.
peak_kib() {
  rm -rf "$WORK/in" "$WORK/out"
  mkdir -p "$WORK/in"
  cp "$1" "$WORK/in/"
  /usr/bin/time -v -o "$WORK/time.txt" "$CALIPER" deid dicom --in "$WORK/in" --out "$WORK/out" \
    --key-file "$KEY" --blank "US:0,0,$COLS,40" --jobs 1 2>/dev/null >/dev/null
  grep -q '"status":"ok"' "$WORK/out/deid-report.jsonl" || { echo "not blanked: $(cat "$WORK/out/deid-report.jsonl")" >&2; exit 1; }
  sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt"
}

"$PHANTOM" "$WORK/small.dcm" 1 16 16
echo "blanking memory on $(uname -srm); cine of $FRAMES x $ROWS x $COLS RGB, native $((NATIVE / 1000000)) MB"
echo "baseline (1 frame of 16 x 16): peak $(( $(peak_kib "$WORK/small.dcm") * 1024 / 1000000 )) MB"
printf '%-24s %9s %10s %8s %12s\n' syntax input_MB native_MB peak_MB peak/native
for syntax in 1.2.840.10008.1.2.1 1.2.840.10008.1.2.5 1.2.840.10008.1.2.4.50 1.2.840.10008.1.2.4.70 \
              1.2.840.10008.1.2.4.80 1.2.840.10008.1.2.4.90; do
  "$PHANTOM" "$WORK/cine.dcm" "$FRAMES" "$ROWS" "$COLS" "$syntax"
  kib=$(peak_kib "$WORK/cine.dcm")
  if [[ -n "${KEEP:-}" ]]; then mkdir -p "$KEEP" && find "$WORK/out" -name '*.dcm' -exec cp {} "$KEEP/$syntax.dcm" \;; fi
  awk -v s="$syntax" -v in_bytes="$(stat -c %s "$WORK/cine.dcm")" -v native="$NATIVE" -v kib="$kib" \
    'BEGIN { printf "%-24s %9d %10d %8d %12.2f\n", s, in_bytes / 1e6, native / 1e6, kib * 1024 / 1e6, kib * 1024 / native }'
done
