#!/usr/bin/env bash
# Installs what trm-dist needs on Debian 12 from Debian's own packages. Idempotent: packages
# that are already present are left alone and apt is not touched when nothing is missing.
set -euo pipefail

packages=(
  build-essential cmake ccache pkg-config
  libtorch-dev              # LibTorch 1.13 (CPU)
  libopenblas0-openmp       # without it LibTorch's matmul falls back to reference BLAS (~30x slower)
  libdnnl-dev               # oneDNN headers: the model calls its sgemm (1.3-1.6x OpenBLAS here)
  libopenmpi-dev openmpi-bin
  libhdf5-dev hdf5-tools zlib1g-dev
  libtomlplusplus-dev
  nlohmann-json3-dev libcli11-dev  # header-only: JSON and command-line flags
  chromium                  # headless render check of trm-report's page (test_report_render_slow)
  googletest libgtest-dev
  python3 python3-torch python3-h5py python3-numpy  # golden-test generator, checkpoint interop
)
# --fuzz (tools/fuzz.sh): clang with libFuzzer and the sanitizer runtimes, and clang's OpenMP.
if [[ ${1:-} == --fuzz ]]; then
  packages+=(clang-14 libclang-rt-14-dev libomp-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
echo "setup: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
