#!/usr/bin/env bash
# The main job: run every shipped scenario in every fix mode against the embedded reference agent,
# print the matrix and write the HTML report under .freshness/runs/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh
exec python3 -m tox -e demo -- "$@"
