#!/usr/bin/env bash
# Caliper's quality statistics against their peers, in one run (issue 6; bench/README.md):
#   (a) Krippendorff's alpha (nominal) and Fleiss' kappa, 1,000,000 items x 5 raters:
#       caliper_bench_quality vs /usr/bin/python3 bench/quality_peer.py (numpy, statsmodels);
#   (b) STAPLE, 256^3 voxels x 5 raters: Caliper vs ITK's itk::STAPLEImageFilter
#       (caliper_bench_staple_itk, built only when CMake found ITK), and the Dice between the
#       two consensus maps thresholded at 0.5;
#   (c) Dice and HD95 on 512 x 512 x 300 masks (Caliper's times).
#
#   bench/quality_bench.sh                 # from build/ (BUILD=... for another tree)
#   REPEAT=5 bench/quality_bench.sh        # best of 5 runs instead of 3
#
# The peers come from Debian: python3-numpy and python3-statsmodels (checked; installed with
# apt-get when missing and running as root), libinsighttoolkit5-dev (for the ITK program; the
# STAPLE comparison is skipped, saying so, when it was not built). Exit status: non-zero when
# a program failed or the two sides disagree.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
REPEAT="${REPEAT:-3}"
ITEMS=1000000
RATERS=5
SIDE=256
PY=/usr/bin/python3
status=0

section() { printf '\n==== %s ====\n' "$*"; }
fail() { echo "quality_bench.sh: $*" >&2; status=1; }
# result FILE NAME: the value of "RESULT NAME value" in FILE.
result() { awk -v n="$2" '$1 == "RESULT" && $2 == n { print $3 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }

[[ -x "$BUILD/bench/caliper_bench_quality" ]] ||
  { echo "quality_bench.sh: $BUILD/bench/caliper_bench_quality is missing; build first (ninja -C $BUILD)" >&2; exit 2; }

if ! "$PY" -c 'import numpy, statsmodels' 2>/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "quality_bench.sh: installing python3-numpy python3-statsmodels (Debian) for the peer"
    apt-get install -y -qq --no-install-recommends python3-numpy python3-statsmodels >/dev/null ||
      { echo "quality_bench.sh: apt-get install failed" >&2; exit 2; }
  else
    echo "quality_bench.sh: $PY lacks numpy/statsmodels: apt-get install python3-numpy python3-statsmodels" >&2
    exit 2
  fi
fi
echo "Peers: $PY with numpy/statsmodels ($("$PY" -c 'import numpy, statsmodels; print(numpy.__version__, statsmodels.__version__)')); Krippendorff's alpha in Python is bench/quality_peer.py's own numpy implementation (Debian packages none)."
echo "Machine: $(uname -srm), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/caliper-quality-bench-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

section "Caliper (caliper_bench_quality, best of $REPEAT)"
"$BUILD/bench/caliper_bench_quality" "$WORK" --items "$ITEMS" --raters "$RATERS" --side "$SIDE" \
  --repeat "$REPEAT" | tee "$WORK/caliper.out" | grep -v '^RESULT' || fail "caliper_bench_quality failed"

section "Python: numpy + statsmodels (bench/quality_peer.py, best of $REPEAT)"
"$PY" "$ROOT/bench/quality_peer.py" "$WORK" "$RATERS" "$REPEAT" | tee "$WORK/python.out" |
  grep -v '^RESULT' || fail "quality_peer.py failed"

section "ITK STAPLEImageFilter (caliper_bench_staple_itk)"
if [[ -x "$BUILD/bench/caliper_bench_staple_itk" ]]; then
  "$BUILD/bench/caliper_bench_staple_itk" "$WORK" "$RATERS" "$SIDE" | tee "$WORK/itk.out" |
    grep -v '^RESULT' || fail "caliper_bench_staple_itk failed"
else
  echo "not built: CMake did not find ITK (apt-get install libinsighttoolkit5-dev, then re-run cmake)"
  : >"$WORK/itk.out"
fi

C="$WORK/caliper.out" P="$WORK/python.out" I="$WORK/itk.out"
section "Summary: $ITEMS items x $RATERS raters; STAPLE ${SIDE}^3 x $RATERS raters"
printf '%-44s %12s %12s %9s\n' "" "Caliper s" "peer s" "ratio"
row() { printf '%-44s %12.4f %12.4f %8sx\n' "$1" "$2" "$3" "$(ratio "$3" "$2")"; }
pa=$(result "$P" python_alpha_s) pf=$(result "$P" python_fleiss_s)
row "alpha, code matrix (CategoryCodes) vs numpy" "$(result "$C" caliper_codes_alpha_s)" "$pa"
row "alpha, FromMatrix + RatingSet vs numpy" \
  "$(awk -v a="$(result "$C" caliper_alpha_s)" -v b="$(result "$C" caliper_build_s)" 'BEGIN{print a+b}')" "$pa"
row "alpha, RatingSet alone vs numpy" "$(result "$C" caliper_alpha_s)" "$pa"
row "Fleiss, code matrix vs statsmodels" "$(result "$C" caliper_codes_fleiss_s)" "$pf"
row "Fleiss, FromMatrix + RatingSet vs statsmodels" \
  "$(awk -v a="$(result "$C" caliper_fleiss_s)" -v b="$(result "$C" caliper_build_s)" 'BEGIN{print a+b}')" "$pf"
row "Fleiss, RatingSet alone vs statsmodels" "$(result "$C" caliper_fleiss_s)" "$pf"
echo "  (statsmodels' table: one numpy pass + fleiss_kappa; with its own aggregate_raters it takes $(result "$P" python_fleiss_aggregate_s) s)"
for m in alpha fleiss; do
  c=$(result "$C" "caliper_codes_$m") s=$(result "$C" "caliper_$m") p=$(result "$P" "python_$m")
  echo "  $m: Caliper codes $c, RatingSet $s, Python $p"
  awk -v a="$c" -v b="$p" -v c="$s" 'BEGIN { d1 = a - b; d2 = c - b; if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2; exit !(d1 < 1e-8 && d2 < 1e-8) }' ||
    fail "$m differs between Caliper and Python"
done
if [[ -s "$I" ]]; then
  row "STAPLE vs ITK STAPLEImageFilter" "$(result "$C" caliper_staple_s)" "$(result "$I" itk_staple_s)"
  dice=$(result "$I" staple_dice)
  echo "  consensus maps thresholded at 0.5: Dice $dice (goal >= 0.999)"
  awk -v d="$dice" 'BEGIN { exit !(d >= 0.999) }' || fail "STAPLE consensus maps differ (Dice $dice)"
else
  echo "STAPLE vs ITK: skipped (ITK program not built); Caliper $(result "$C" caliper_staple_s) s"
fi
printf '%-44s %12.4f\n' "Dice, 512x512x300" "$(result "$C" caliper_dice_s)"
printf '%-44s %12.4f\n' "HD95, 512x512x300" "$(result "$C" caliper_hd95_s)"
exit "$status"
