#!/usr/bin/env bash
# Set up .venv with a Python 3.12+ and the project's packages.
#   scripts/setup.sh          app packages
#   scripts/setup.sh --test   app + test packages, and Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

find_python() {
  local cand
  for cand in "${PYTHON:-}" python3.13 python3.12 python3; do
    [ -n "$cand" ] || continue
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  # pyenv keeps versions it does not put on PATH.
  for cand in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 /root/.pyenv/versions/3.1[2-9]*/bin/python3; do
    if [ -x "$cand" ] && "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
      echo "$cand"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
  if ! py=$(find_python); then
    echo "seedance-web needs Python 3.12 or newer (Django 6), and none was found." >&2
    echo "Install one (e.g. 'pyenv install 3.12' or your system's python3.12 package)," >&2
    echo "or point PYTHON at it: PYTHON=/path/to/python3.12 $0" >&2
    exit 1
  fi
  echo "Creating .venv with $($py --version) ($py)"
  rm -rf .venv
  "$py" -m venv .venv
fi

extras=""
[ "$want_test" = 1 ] && extras="[test]"
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)${extras}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${extras}"
  touch "$stamp"
fi

if [ "$want_test" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Chromium for the browser tests (apt-get)…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "NOTE: no chromium found; the browser tests will be skipped." >&2
    echo "      Install it with: sudo apt-get install chromium" >&2
  fi
fi
