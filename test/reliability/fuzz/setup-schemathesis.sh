#!/usr/bin/env bash
# Create or reuse test/reliability/fuzz/.venv with the pinned schemathesis. Idempotent: a venv
# whose recorded requirements hash matches is reused as is.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ -x "$venv/bin/schemathesis" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "setup-schemathesis: reusing $venv"
  exit 0
fi
[[ -x "$venv/bin/python" ]] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
echo "$want" > "$stamp"
echo "setup-schemathesis: $("$venv/bin/schemathesis" --version)"
