#!/usr/bin/env bash
# `npm run test:numeric-variants`: the numeric suites under the kernel choices other CPUs would make, so a
# bound that only holds on this machine's kernels fails here first (issue 10). Not part of `npm test`
# (about 15 minutes on 2 cores); README records the variations it was last run under.
#
# - PyTorch (references, the exporter's checks): AVX2 kernels, and no vector kernels at all, through the switches
#   ATen, MKL and oneDNN read at start-up.
# - onnxruntime (the TypeScript pipeline, the exporter's verification): its CPU kernels follow CPUID alone, so
#   whole processes run under qemu-user on CPU models without AVX-512 (its "max": AVX2 and FMA) and without AVX
#   (Nehalem: SSE4.2); and with its fusions off and two threads, which reorder its sums on any CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
py=infra/export/.venv/bin/python
parity=(gpu-function/src/models gpu-function/src/pipelines/ecomid.test.ts gpu-function/src/preprocess)
# The numeric pytest files; the rebuild (a minute natively) is left out under emulation.
numeric_py=(infra/export/tests/test_tiny_bundle.py infra/export/tests/test_float_error.py infra/export/tests/test_onnx_export.py
            infra/export/tests/test_denoiser.py infra/export/tests/test_id_attention.py)
results=()
failed=0

run() {
  local name="$1"; shift
  local started=$SECONDS
  if "$@" > ".state/variant-${name}.log" 2>&1; then
    results+=("pass  ${name} ($((SECONDS - started)) s)")
  else
    results+=("FAIL  ${name} ($((SECONDS - started)) s): see .state/variant-${name}.log")
    failed=$((failed + 1))
  fi
}

mkdir -p .state
bash infra/export/setup_venv.sh > /dev/null || { echo "python environment setup failed"; exit 1; }
if ! command -v qemu-x86_64 > /dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user) > /dev/null || echo "could not install qemu-user"
  fi
fi
vitest=(node_modules/vitest/vitest.mjs run --project node)

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'); AVX-512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)"
run ts-native node "${vitest[@]}" "${parity[@]}"
run ts-ort-no-fusions env ECOMID_TEST_ORT_OPTIMIZATION=disabled node "${vitest[@]}" "${parity[@]}"
run ts-ort-two-threads env ECOMID_TEST_ORT_THREADS=2 node "${vitest[@]}" "${parity[@]}"
run py-native "$py" -m pytest infra/export/tests -q -p no:cacheprovider
run py-torch-avx2 env ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 \
  "$py" -m pytest infra/export/tests -q -p no:cacheprovider
run py-torch-no-vectors env ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 ONEDNN_MAX_CPU_ISA=SSE41 \
  "$py" -m pytest "${numeric_py[@]}" -q -p no:cacheprovider -k "not rebuilt"
if command -v qemu-x86_64 > /dev/null; then
  for cpu in max Nehalem; do
    # Worker threads, not child processes: a child would start outside the emulator.
    run "ts-qemu-${cpu}" qemu-x86_64 -cpu "$cpu" "$(command -v node)" "${vitest[@]}" --pool=threads "${parity[@]}"
    # numpy's AVX2 loops crash qemu 7.2's emulation (a segfault in np.minimum over a gathered array); numpy is not
    # what this varies, so it keeps to its baseline there. onnxruntime and torch still take their AVX2 kernels.
    numpy_baseline=(); [ "$cpu" = max ] && numpy_baseline=(env NPY_DISABLE_CPU_FEATURES=X86_V3)
    run "py-qemu-${cpu}" "${numpy_baseline[@]}" qemu-x86_64 -cpu "$cpu" "$py" -m pytest "${numeric_py[@]}" -q -p no:cacheprovider -k "not rebuilt"
  done
else
  results+=("skip  qemu variants: qemu-user is not installed")
fi

printf '%s\n' "${results[@]}"
echo "$(printf '%s\n' "${results[@]}" | grep -c '^pass') passed, $failed failed"
[ "$failed" -eq 0 ]
