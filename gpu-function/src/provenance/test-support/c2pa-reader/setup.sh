#!/usr/bin/env bash
# Create or reuse this folder's .venv with the pinned c2pa-python, the independent reader the provenance tests
# check manifests with. Idempotent: a venv whose recorded requirements hash matches is reused as is.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "setup c2pa reader: reusing $venv"
  exit 0
fi
[[ -x "$venv/bin/python" ]] || "${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
echo "$want" > "$stamp"
echo "setup c2pa reader: c2pa-python with c2pa-rs $("$venv/bin/python" -c "import c2pa; print(c2pa.sdk_version())")"
