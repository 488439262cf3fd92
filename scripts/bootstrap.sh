#!/usr/bin/env bash
# The two set-up commands of the README, for a fresh Debian 12 machine, as root:
#   scripts/bootstrap.sh demo   install what is missing, build, run `caliper demo`
#   scripts/bootstrap.sh test   install what is missing, build, run every test (browser tests too)
#   scripts/bootstrap.sh build  install what is missing, build the server and the web app
# Extra arguments after `demo` go to `caliper demo` (e.g. --listen 127.0.0.1:9443).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

mode="${1:-}"
case "$mode" in
  demo|test|build) shift ;;
  *) echo "usage: scripts/bootstrap.sh demo|test|build [caliper demo options]" >&2; exit 2 ;;
esac

# Debian 12 packages Caliper builds and tests with. One list, used by every mode.
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libdcmtk-dev dcmtk libsodium-dev libsqlite3-dev sqlite3 libcpp-httplib-dev libssl-dev openssl
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  libnifti2-dev libniftiio-dev libznz-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev wrk curl
  libhyperscan-dev wamerican libtext-names-perl iso-codes libarchive-dev time
  libopenjp2-7-dev libpng-dev libzstd-dev dicom3tools python3-pydicom python3-nibabel python3-numpy python3-jsonschema
  libopenslide-dev libjpeg62-turbo-dev libmimalloc-dev
)

# The browser tests drive Debian's Chromium (test mode only).
if [[ $mode == test ]]; then packages+=(chromium); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "caliper: these Debian packages are missing: ${missing[*]}" >&2
    echo "caliper: run this script as root (or with sudo) so it can install them with apt-get" >&2
    exit 1
  fi
  echo "==> installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The US ZIP/city list of the text de-identifier comes from npm (docs/adr/0005).
# npm is the machine's (Node 20) when it has one; on a bare Debian 12 it comes from Debian.
zipcodes_version=8.0.0
if ! command -v npm >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "caliper: npm is missing; run as root so it can install Debian's nodejs and npm" >&2
    exit 1
  fi
  echo "==> installing Debian's nodejs and npm"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
if [[ ! -f "$(npm root -g)/zipcodes/lib/codes.js" ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "caliper: run as root so it can run: npm install -g zipcodes@$zipcodes_version" >&2
    exit 1
  fi
  echo "==> installing npm package zipcodes@$zipcodes_version (de-identification dictionaries)"
  npm install -g --no-audit --no-fund "zipcodes@$zipcodes_version" >/dev/null
fi

# The web app's packages, pinned by web/package-lock.json (before configuring: the browser
# tests are registered only when they are installed).
echo "==> installing the web app's npm packages (web/node_modules)"
(cd web && npm ci --no-audit --no-fund --loglevel=error)

echo "==> building (build/)"
browser_tests=AUTO
if [[ $mode == test ]]; then browser_tests=ON; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCALIPER_WERROR=ON \
  -DCALIPER_BROWSER_TESTS="$browser_tests" >/dev/null
cmake --build build --parallel "$(nproc)"

# Typed from the OpenAPI document of the binary just built, then bundled into web/dist, which
# `caliper serve` serves.
echo "==> building the web app (web/dist)"
(cd web && CALIPER_BINARY="$here/build/caliper" npm run build --silent)

case "$mode" in
  build) ;;
  demo)
    exec ./build/caliper demo --data "${CALIPER_DEMO_DATA:-./caliper-data}" "$@"
    ;;
  test)
    # Sample data (../shared/data beside the checkout) is found through CALIPER_SAMPLE_DATA;
    # with CALIPER_REQUIRE_SAMPLE_DATA=1 (as in CI) tests that need it fail when it is absent.
    export CALIPER_SAMPLE_DATA="${CALIPER_SAMPLE_DATA:-$(cd "$here/.." && pwd)/shared/data}"
    echo "==> testing (sample data: $CALIPER_SAMPLE_DATA, required: ${CALIPER_REQUIRE_SAMPLE_DATA:-0})"
    ctest --test-dir build --output-on-failure --timeout 900 -j "$(nproc)"
    ;;
esac
