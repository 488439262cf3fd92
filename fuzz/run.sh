#!/usr/bin/env bash
# Builds the libFuzzer harness for the text de-identification scanner with clang
# (-fsanitize=fuzzer,address,undefined) in its own build directory and runs it for a bounded
# time on a seed corpus of synthetic notes.
#   fuzz/run.sh [SECONDS=60] [BUILD_DIR=build-fuzz]
# Needs clang 14 and its libFuzzer runtime; on Debian 12:
#   apt-get install clang-14 libclang-rt-14-dev
# Crashes are written to $BUILD_DIR/fuzz-artifacts/; the corpus grows in $BUILD_DIR/fuzz-corpus/.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build-fuzz}
cc=$(command -v clang-14 || command -v clang)
cxx=$(command -v clang++-14 || command -v clang++)

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCALIPER_FUZZ=ON -DCALIPER_BUILD_TESTS=OFF -DCALIPER_BUILD_BENCH=OFF >/dev/null
ninja -C "$build" caliper_deid_text_fuzzer caliper_fuzz_seeds

corpus=$build/fuzz-corpus
artifacts=$build/fuzz-artifacts
mkdir -p "$corpus" "$artifacts"
ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/caliper_fuzz_seeds" "$corpus" 60
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$build/fuzz/caliper_deid_text_fuzzer" -max_total_time="$seconds" -max_len=65536 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus"
