#!/usr/bin/env bash
# GPU check for a lent GPU machine (one H100, about 15 minutes, NO internet).
# Measures what can be measured with what was carried there, says plainly what could not,
# Every step runs under `timeout`. Sections 1-2 take 1-2 min; section 3 (fp16 vs fp32 at 1024x1024, 30 steps) needs
# a denoiser pair: a real bundle's, or the rehearsal's (built here in up to 25 min if the export venv is present).
# Run from the repository root:  bash infra/bench/gpu-check.sh
# Output goes to stdout and to $OUT/gpu-check.log ($OUT defaults to /tmp/ecomid-gpu-check).
# What it needs (see infra/bench/README.md):
#   - Node 20.19+ and node_modules from `ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm ci` done on a
#     machine WITH internet (postinstall fetches the CUDA EP from NuGet), carried over, and
#   - the CUDA EP .so files in node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
#     (libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so), plus CUDA 12
#     runtime, cuBLAS and cuDNN 9 libraries findable by the loader (LD_LIBRARY_PATH).
#   - Fallback: python3 with numpy and onnxruntime-gpu (CUDAExecutionProvider).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT_DIR="${OUT:-/tmp/ecomid-gpu-check}"
mkdir -p "$OUT_DIR"
LOG="$OUT_DIR/gpu-check.log"
exec > >(tee "$LOG") 2>&1

EP_DIR=node_modules/onnxruntime-node/bin/napi-v6/linux/x64
measured=()
missing=()
say() { printf '%s\n' "$*"; }

say "== ecomid gpu-check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
if command -v nvidia-smi >/dev/null; then
  # The form factor matters when comparing figures: SXM and PCIe H100s differ in power limit and memory bandwidth.
  timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit,pcie.link.gen.max --format=csv
else
  say "nvidia-smi not found: no GPU visible"; missing+=("GPU (nvidia-smi absent)")
fi
say "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"

# 1. Node + onnxruntime-node with the CUDA EP.
node_ok=1
if ! command -v node >/dev/null; then
  say "node: NOT FOUND"; node_ok=0; missing+=("Node 20 (not installed)")
else
  say "node: $(node --version)"
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || { node_ok=0; missing+=("Node >= 20 (found $(node --version))"); }
fi
if [ ! -x node_modules/.bin/tsx ] || [ ! -f "$EP_DIR/libonnxruntime.so.1" ]; then
  node_ok=0; missing+=("node_modules (run ONNXRUNTIME_NODE_INSTALL_CUDA=v12 npm ci with internet, then carry it)")
fi
if [ ! -f "$EP_DIR/libonnxruntime_providers_cuda.so" ] || [ ! -f "$EP_DIR/libonnxruntime_providers_shared.so" ]; then
  say "onnxruntime-node CUDA EP: NOT VENDORED ($EP_DIR has $(ls "$EP_DIR" 2>/dev/null | xargs))"
  node_ok=0; missing+=("onnxruntime-node CUDA EP .so files in $EP_DIR")
fi

if [ "$node_ok" = 1 ]; then
  say; say "== TS pipeline + host loop, EXECUTION_PROVIDER=cuda (tiny bundle; SDXL-shape trivial graph)"
  if EXECUTION_PROVIDER=cuda BENCH_SKIP_REFERENCE=1 BENCH_RUNS=5 BENCH_JSON="$OUT_DIR/bench-cuda.json" \
      timeout 180 node_modules/.bin/tsx scripts/bench-pipeline.ts; then
    measured+=("TS pipeline + host loop on CUDA")
  else
    say "(exit $?: 124 means it ran past 180 s)"; missing+=("TS pipeline on CUDA (failed, see above)")
  fi
  say; say "== same on this machine's CPU, for the baseline"
  if EXECUTION_PROVIDER=cpu BENCH_SKIP_REFERENCE=1 BENCH_RUNS=3 BENCH_JSON="$OUT_DIR/bench-cpu.json" \
      timeout 60 node_modules/.bin/tsx scripts/bench-pipeline.ts; then
    measured+=("TS pipeline + host loop on CPU (baseline)")
  else
    missing+=("TS CPU baseline (failed or past 60 s)")
  fi
fi

# 2. Fallback and cross-check: Python onnxruntime-gpu, if present.
PY=""
for candidate in "${BENCH_PYTHON:-}" infra/export/.venv/bin/python python3; do
  if [ -n "$candidate" ] && command -v "$candidate" >/dev/null && \
     timeout 20 "$candidate" -c 'import onnxruntime as o, numpy; assert "CUDAExecutionProvider" in o.get_available_providers()' 2>/dev/null; then
    PY="$candidate"; break
  fi
done
say
if [ -n "$PY" ]; then
  say "== Python onnxruntime-gpu ($PY): tiny denoiser call; SDXL-shape trivial graph fed from host vs device-bound"
  if timeout 90 "$PY" infra/bench/ort_python_timing.py | tee "$OUT_DIR/ort-python-cuda.json"; then
    measured+=("Python onnxruntime CUDA: tiny denoiser, host-fed vs IOBinding")
  else
    missing+=("Python onnxruntime CUDA timing (failed or past 90 s)")
  fi
else
  say "Python onnxruntime-gpu with CUDAExecutionProvider: not found"
  missing+=("Python onnxruntime-gpu (fallback)")
fi

# 3. Precision: the fp16 denoiser against its fp32 twin on CUDA, 1024x1024, 30 steps (infra/bench/precision_check.py):
#    the export verifies fp16 graphs only on onnxruntime's CPU provider, which runs them in fp32 (weights cast).
#    Graphs: ECOMID_BUNDLE + ECOMID_BUNDLE_FP32 (a real bundle and the same export with --precision fp32), else the
#    rehearsal's pair in $REHEARSAL_WORK (python -m ecomid_export.rehearsal.denoiser_pair, built here if the export
#    venv exists: about 12 GB of seeded full-size files written, two exports, 25 GB of graphs).
say
REHEARSAL_WORK="${REHEARSAL_WORK:-/tmp/ecomid-rehearsal}"
if [ -n "${ECOMID_BUNDLE:-}" ] && [ -n "${ECOMID_BUNDLE_FP32:-}" ]; then
  FP16_GRAPH="$ECOMID_BUNDLE/graphs/denoiser.onnx"; FP32_GRAPH="$ECOMID_BUNDLE_FP32/graphs/denoiser.onnx"; GRAPH_SOURCE="real bundle $ECOMID_BUNDLE"
else
  FP16_GRAPH="$REHEARSAL_WORK/denoiser-fp16/graphs/denoiser.onnx"; FP32_GRAPH="$REHEARSAL_WORK/denoiser-fp32/graphs/denoiser.onnx"; GRAPH_SOURCE="rehearsal (seeded random weights)"
  if { [ ! -f "$FP16_GRAPH" ] || [ ! -f "$FP32_GRAPH" ]; } && [ -x infra/export/.venv/bin/python ]; then
    say "== building the rehearsal's fp16 and fp32 denoisers in $REHEARSAL_WORK (at most 25 min)"
    (cd infra/export && timeout 1500 .venv/bin/python -m ecomid_export.rehearsal.denoiser_pair --work "$REHEARSAL_WORK") \
      || say "(denoiser pair build failed or ran past 25 min: exit $?)"
  fi
fi
if [ -n "$PY" ] && [ -f "$FP16_GRAPH" ] && [ -f "$FP32_GRAPH" ]; then
  say "== precision on CUDA: fp16 vs fp32 denoiser ($GRAPH_SOURCE), 1024x1024, 30 steps, CFG 3.5"
  if timeout 900 "$PY" infra/bench/precision_check.py --fp16 "$FP16_GRAPH" --fp32 "$FP32_GRAPH" | tee "$OUT_DIR/precision-cuda.json"; then
    measured+=("fp16 vs fp32 denoiser on CUDA at 1024x1024, 30 steps: error and seconds per step ($GRAPH_SOURCE)")
  else
    missing+=("fp16 vs fp32 on CUDA (failed or past 15 min, see above)")
  fi
else
  why=""; [ -z "$PY" ] && why="no onnxruntime-gpu; "
  [ -f "$FP16_GRAPH" ] && [ -f "$FP32_GRAPH" ] || why="${why}no denoiser pair (set ECOMID_BUNDLE and ECOMID_BUNDLE_FP32, or carry $REHEARSAL_WORK, or the export venv to build it)"
  missing+=("fp16 vs fp32 on CUDA: $why")
fi

say; say "== summary"
for m in "${measured[@]}"; do say "measured:     $m"; done
for m in "${missing[@]}"; do say "NOT measured: $m"; done
say "never measurable without a real bundle: real SDXL image quality (the rehearsal's weights are random; its timings and errors are the real architecture's)"
say "log: $LOG"
