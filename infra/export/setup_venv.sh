#!/usr/bin/env bash
# Create or reuse infra/export/.venv from the pinned requirements. Idempotent: a venv whose
# recorded requirements hash matches is reused as is; otherwise it is (re)installed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
stamp="$venv/.requirements.sha256"
want="$(cat "$here/requirements.txt" "$here/requirements-nodeps.txt" "$here/constraints.txt" | sha256sum | cut -d' ' -f1)"

# Puts ecomid_export on the venv's path, so `python -m ecomid_export` works from any folder.
link_package() {
  local site
  site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$here" > "$site/ecomid_export.pth"
}

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  link_package
  echo "setup_venv: reusing $venv (requirements unchanged)"
  exit 0
fi
if [[ ! -x "$venv/bin/python" ]]; then
  echo "setup_venv: creating $venv with $($python --version)"
  "$python" -m venv "$venv"
else
  echo "setup_venv: requirements changed; updating $venv"
fi
started=$SECONDS
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" -c "$here/constraints.txt"
# open-clip-torch only for its CLIP BPE vocabulary file: without its heavy dependencies.
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/requirements-nodeps.txt"
link_package
echo "$want" > "$stamp"
echo "setup_venv: installed in $((SECONDS - started)) s: $("$venv/bin/python" -c 'import torch, onnxruntime, diffusers; print("torch", torch.__version__, "onnxruntime", onnxruntime.__version__, "diffusers", diffusers.__version__)')"
