#!/usr/bin/env bash
# Builds a libFuzzer harness with clang (-fsanitize=fuzzer,address,undefined) in its own
# build directory and runs it for a bounded time on a seed corpus of synthetic data.
#   fuzz/run.sh [SECONDS=60] [BUILD_DIR=build-fuzz]
#   FUZZER=dicom_deid fuzz/run.sh 60    # the DICOM parse + de-identification path
# FUZZER: deid_text (default; the text de-identification scanner, seeds: synthetic notes),
# dicom_deid (DicomDeidentifier, seeds: CT phantom slices with fake PHI), dicom_volume
# (DecodeImage + BuildVolume, seeds: phantom series in every transfer syntax, an enhanced CT,
# a US cine) or nifti (DecodeNifti, seeds: phantom volumes as .nii and .nii.gz).
# Needs clang 14 and its libFuzzer runtime; on Debian 12:
#   apt-get install clang-14 libclang-rt-14-dev
# Crashes are written to $BUILD_DIR/fuzz-artifacts[-dicom_deid]/; the corpus grows in
# $BUILD_DIR/fuzz-corpus[-dicom_deid]/.
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build-fuzz}
fuzzer=${FUZZER:-deid_text}
cc=$(command -v clang-14 || command -v clang)
cxx=$(command -v clang++-14 || command -v clang++)

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCALIPER_FUZZ=ON -DCALIPER_BUILD_TESTS=OFF -DCALIPER_BUILD_BENCH=OFF >/dev/null

case "$fuzzer" in
  deid_text)
    ninja -C "$build" caliper_deid_text_fuzzer caliper_fuzz_seeds
    corpus=$build/fuzz-corpus
    artifacts=$build/fuzz-artifacts
    mkdir -p "$corpus" "$artifacts"
    ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/caliper_fuzz_seeds" "$corpus" 60
    binary=$build/fuzz/caliper_deid_text_fuzzer
    max_len=65536
    ;;
  dicom_deid)
    ninja -C "$build" caliper_dicom_deid_fuzzer caliper_fuzz_dicom_seeds
    corpus=$build/fuzz-corpus-dicom_deid
    artifacts=$build/fuzz-artifacts-dicom_deid
    mkdir -p "$corpus" "$artifacts"
    ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/caliper_fuzz_dicom_seeds" "$corpus/seeds"
    binary=$build/fuzz/caliper_dicom_deid_fuzzer
    max_len=16384
    ;;
  dicom_volume|nifti)
    ninja -C "$build" caliper_dicom_volume_fuzzer caliper_nifti_fuzzer caliper_fuzz_imaging_seeds
    corpus=$build/fuzz-corpus-$fuzzer
    artifacts=$build/fuzz-artifacts-$fuzzer
    mkdir -p "$corpus" "$artifacts" "$build/fuzz-corpus-dicom_volume" "$build/fuzz-corpus-nifti"
    ASAN_OPTIONS=detect_leaks=0 "$build/fuzz/caliper_fuzz_imaging_seeds" \
      "$build/fuzz-corpus-dicom_volume" "$build/fuzz-corpus-nifti"
    binary=$build/fuzz/caliper_${fuzzer}_fuzzer
    max_len=262144
    ;;
  *) echo "run.sh: unknown FUZZER=$fuzzer (deid_text, dicom_deid, dicom_volume or nifti)" >&2; exit 2 ;;
esac

ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$binary" -max_total_time="$seconds" -max_len="$max_len" \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus"
