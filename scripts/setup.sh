#!/usr/bin/env bash
# sqzfw setup: node modules and the system tools the tests and the demo need. Idempotent; prints nothing when
# everything is present. Non-interactive (CI=true, no stdin).
#   - npm ci (npm install without a lock file) when node_modules is missing or older than package.json / the lock
#   - apt-get install of arm-none-eabi-gcc + newlib, qemu-system-arm, iverilog, openocd, stlink-tools, make, cmake when
#     one is missing (cmake: the test that links the model library into a CMake application)
#     (as root, or through passwordless sudo; otherwise prints the command to run and exits 1)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

# ---- node modules -------------------------------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: compare it with the inputs.
stamp=node_modules/.package-lock.json
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] ||
  { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
  if ! command -v npm >/dev/null 2>&1; then
    log "npm not found: install Node.js 20 or newer"
    exit 1
  fi
  if [ -f package-lock.json ]; then
    log "installing node modules (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error </dev/null
  else
    log "installing node modules (npm install)"
    npm install --no-audit --no-fund --loglevel=error </dev/null
  fi
fi

# ---- system packages ----------------------------------------------------------------------------------------------
# The whole set is installed at once when anything is missing (apt-get skips what is already there).
PACKAGES=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm iverilog openocd stlink-tools make cmake)

missing=()
command -v arm-none-eabi-gcc >/dev/null 2>&1 || missing+=(arm-none-eabi-gcc)
if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
  libc=$(arm-none-eabi-gcc -print-file-name=libc_nano.a 2>/dev/null || true)
  case "$libc" in /*) [ -f "$libc" ] || missing+=(newlib) ;; *) missing+=(newlib) ;; esac
fi
command -v qemu-system-arm >/dev/null 2>&1 || missing+=(qemu-system-arm)
command -v iverilog >/dev/null 2>&1 || missing+=(iverilog)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v openocd >/dev/null 2>&1 || missing+=(openocd)
command -v st-flash >/dev/null 2>&1 || missing+=(st-flash)

if [ ${#missing[@]} -gt 0 ]; then
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${PACKAGES[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing: ${missing[*]}; no apt-get here: install the equivalents of ${PACKAGES[*]}"
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    log "missing: ${missing[*]}; run as root:"
    printf '  sudo sh -c "%s"\n' "$cmd" >&2
    exit 1
  fi
  log "missing: ${missing[*]}; installing ${PACKAGES[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  if ! out=$("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq 2>&1 </dev/null); then
    printf '%s\n' "$out" >&2
    log "apt-get update failed"
    exit 1
  fi
  if ! out=$("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${PACKAGES[@]}" 2>&1 </dev/null); then
    printf '%s\n' "$out" | tail -n 20 >&2
    log "apt-get install failed; the command was: $cmd"
    exit 1
  fi
  for tool in arm-none-eabi-gcc qemu-system-arm iverilog openocd st-flash make cmake; do
    command -v "$tool" >/dev/null 2>&1 || { log "$tool still missing after apt-get install"; exit 1; }
  done
  log "installed ${PACKAGES[*]}"
fi

# ---- Robot Framework (parses the generated Renode tests) ----------------------------------------------------------
# Renode's renode-test pins robotframework 6.1; the tests parse the generated .robot files with that version.
# A failure here does not stop the setup: only test/renode.test.ts needs it, and says so.
ROBOT_VERSION=6.1
if command -v python3 >/dev/null 2>&1; then
  if ! python3 -c "import sys, robot; sys.exit(robot.__version__ != '$ROBOT_VERSION')" >/dev/null 2>&1; then
    log "installing robotframework==$ROBOT_VERSION (pip)"
    if ! out=$(PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
      "robotframework==$ROBOT_VERSION" 2>&1 </dev/null); then
      printf '%s\n' "$out" | tail -n 5 >&2
      log "pip install robotframework==$ROBOT_VERSION failed: the Renode test checks will fail until it is installed"
    fi
  fi
else
  log "python3 not found: the Renode test checks need python3 with robotframework==$ROBOT_VERSION"
fi

# ---- TensorFlow Lite Micro (the oracle of the TFLite tests) -------------------------------------------------------
# A venv in .venv (git-ignored) with the pip tflite-micro interpreter (a pre-release build: --pre) and numpy; the
# schema classes it ships also serve the independent .tflite writer (scripts/tflite_independent_writer.py).
# Without python3 -m venv the TFLite tests fail in CI (CI=true) and skip with a reason elsewhere.
if ! [ -x .venv/bin/python ] || ! .venv/bin/python -c "import tflite_micro, numpy" >/dev/null 2>&1; then
  if command -v python3 >/dev/null 2>&1; then
    log "creating .venv with tflite-micro and numpy (pip)"
    if ! out=$( { python3 -m venv .venv && .venv/bin/python -m pip install --quiet --disable-pip-version-check --pre tflite-micro numpy; } 2>&1 </dev/null); then
      printf '%s\n' "$out" | tail -n 5 >&2
      log "could not set up .venv with tflite-micro: the TFLite Micro oracle tests will fail until it is installed (python3-venv is needed)"
    fi
  else
    log "python3 not found: the TFLite Micro oracle tests need python3 with venv"
  fi
fi
