#!/usr/bin/env bash
# Policy scan of infra/ with checkov, offline (no policy download), failing on any failed check.
#
#   scripts/deploy/checkov.sh [extra checkov args]
#
# checkov runs in its own throw-away environment made by `uv tool run` (cached by uv): it pins
# and downgrades many packages, so it must never be installed into .venv. Its version and the
# date its dependencies are resolved as of are pinned here, so every run scans with the same code.
# A check is skipped only in the Terraform, next to the resource, with a one-line reason:
#   #checkov:skip=CKV_GCP_XX:why this does not apply
set -euo pipefail
cd "$(dirname "$0")/../.."

CHECKOV_VERSION=3.3.30
RESOLVED_AS_OF=2026-11-01T00:00:00Z

uv=${UV:-}
if [[ -z $uv ]]; then
  for candidate in .venv/bin/uv .local/tools/bin/uv "$(command -v uv || true)"; do
    if [[ -n $candidate && -x $candidate ]]; then uv=$candidate; break; fi
  done
fi
if [[ -z $uv ]]; then
  echo "checkov.sh: uv not found (run ./dev once, put uv on PATH, or set UV=/path/to/uv)" >&2
  exit 127
fi

export UV_PYTHON_DOWNLOADS=never
exec "$uv" tool run --quiet --exclude-newer "$RESOLVED_AS_OF" --from "checkov==$CHECKOV_VERSION" \
  checkov --directory infra --framework terraform --skip-download --quiet --compact "$@"
