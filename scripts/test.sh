#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages, then every tox environment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh
exec python3 -m tox "$@"
