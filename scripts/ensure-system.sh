#!/usr/bin/env bash
# Installs what the tests need from outside PyPI on a fresh Debian machine of this kind:
# Chromium (Playwright cannot download its own browser here) and tmux (the terminal driver).
# Idempotent and quiet when everything is already there.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/lib/chromium/chromium ] || need+=(chromium)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "freshness: missing ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  echo "freshness: installing ${need[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# tox drives every environment; tox-uv makes building them several times faster.
if ! python3 -m tox --version >/dev/null 2>&1 || ! python3 -c "import tox_uv" >/dev/null 2>&1; then
  echo "freshness: installing tox and tox-uv"
  python3 -m pip install -q "tox==4.67.16" "tox-uv==1.37.1"
fi
