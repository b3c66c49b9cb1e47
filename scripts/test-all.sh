#!/usr/bin/env bash
# `npm test`: every suite. TypeScript (typecheck, lint and format, the production build, edge tests in workerd, node tests),
# then Python (the bundle exporter), installing what each needs. Ends with one line
# "N passed, N failed" counted over all suites; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false WRANGLER_HIDE_BANNER=true CLOUDFLARE_CF_FETCH_ENABLED=false
mkdir -p .state
passed=0
failed=0
status=0

# The browser suite drives Debian's Chromium through playwright-core, which never downloads a browser.
if ! command -v chromium >/dev/null && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null || echo "could not install chromium"
  else
    echo "chromium is missing: install Debian's chromium (or set CHROMIUM_PATH) for the browser tests"
  fi
fi

# The provenance tests (gpu-function/src/provenance) read XMP with Debian's exiftool, installed like chromium above.
if ! command -v exiftool >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's libimage-exiftool-perl for the provenance tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libimage-exiftool-perl) >/dev/null || echo "could not install exiftool"
  else
    echo "exiftool is missing: install Debian's libimage-exiftool-perl for the provenance tests"
  fi
fi

echo "== typecheck"
if npm run -s typecheck; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

# Type-aware lint rules (eslint.config.js) and the formatter's check (prettier); `npm run format` fixes the latter.
echo "== lint and format"
if npm run -s lint; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

# Production runs the JavaScript this builds (gpu-function/dist, cli/dist); test/node/production-build.test.ts runs it.
echo "== npm run build (the GPU function's server and inference process, the CLI)"
if npm run -s build; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

echo "== the worker bundles for deployment (wrangler deploy --dry-run: local, staging, production)"
for deploy_env in local staging production; do
  env_flag=(); [ "$deploy_env" != local ] && env_flag=(--env "$deploy_env")
  if npx wrangler deploy --dry-run --outdir ".state/edge-dist-$deploy_env" "${env_flag[@]}" > ".state/dry-run-$deploy_env.log" 2>&1; then
    passed=$((passed + 1))
  else
    cat ".state/dry-run-$deploy_env.log"; failed=$((failed + 1)); status=1
  fi
done

# Before vitest: gpu-function/test/real-mode-bundle.test.ts builds a bundle with the exporter (idempotent, 0 s when reused).
echo "== the exporter's Python environment (infra/export/setup_venv.sh)"
venv_ok=1
bash infra/export/setup_venv.sh || venv_ok=0

# Before vitest: the provenance tests check manifests with the C2PA reference reader (c2pa-python, pinned) in its
# own venv; without it they fail, so a failed setup is reported here and shows again as failed tests.
echo "== the C2PA reader's Python environment (gpu-function/src/provenance/test-support/c2pa-reader/setup.sh)"
bash gpu-function/src/provenance/test-support/c2pa-reader/setup.sh || echo "C2PA reader setup failed: the provenance tests will fail"

echo "== vitest (edge in workerd, node)"
rm -f .state/vitest.json
vitest_rc=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.state/vitest.json || vitest_rc=1
if [ -f .state/vitest.json ]; then
  # A failed test counts once; a file counts only when it failed with no failed test in it
  # (it did not load, or a hook threw). numFailedTestSuites would count describe blocks too.
  read -r vp vf < <(node -e 'const r=require("./.state/vitest.json");const broken=r.testResults.filter((f)=>f.status==="failed"&&!f.assertionResults.some((a)=>a.status==="failed")).length;console.log(r.numPassedTests, r.numFailedTests + broken)')
  passed=$((passed + vp)); failed=$((failed + vf))
  # An exit with no failed test (an unhandled error after the tests) still counts as one failure.
  [ "$vitest_rc" != 0 ] && [ "$vf" = 0 ] && failed=$((failed + 1))
else
  failed=$((failed + 1))
fi

if [ -x infra/export/setup_venv.sh ] || [ -f infra/export/setup_venv.sh ]; then
  echo "== python (infra/export)"
  if [ "$venv_ok" = 1 ]; then
    rm -f .state/pytest.xml
    pytest_rc=0
    infra/export/.venv/bin/python -m pytest infra/export/tests -q -p no:cacheprovider --junitxml=.state/pytest.xml || pytest_rc=1
    if [ -f .state/pytest.xml ]; then
      read -r pp pf < <(python3 -c 'import xml.etree.ElementTree as E;r=E.parse(".state/pytest.xml").getroot();s=r if r.tag=="testsuite" else r.find("testsuite");t,f,e,k=(int(s.get(a,0)) for a in ("tests","failures","errors","skipped"));print(t-f-e-k, f+e)')
      passed=$((passed + pp)); failed=$((failed + pf))
      [ "$pytest_rc" != 0 ] && [ "$pf" = 0 ] && failed=$((failed + 1))
    else
      failed=$((failed + 1)); status=1
    fi
  else
    echo "python environment setup failed"; failed=$((failed + 1)); status=1
  fi
fi

echo "== schemathesis against the served OpenAPI document (test/reliability/fuzz)"
if bash test/reliability/fuzz/setup-schemathesis.sh; then
  rm -f .state/schemathesis.xml
  schemathesis_rc=0
  npx tsx test/reliability/fuzz/run-schemathesis.ts .state/schemathesis.xml || schemathesis_rc=1
  if [ -f .state/schemathesis.xml ]; then
    read -r sp sf < <(python3 -c 'import xml.etree.ElementTree as E;r=E.parse(".state/schemathesis.xml").getroot();s=r if r.tag=="testsuite" else r.find("testsuite");t,f,e,k=(int(s.get(a,0)) for a in ("tests","failures","errors","skipped"));print(t-f-e-k, f+e)')
    passed=$((passed + sp)); failed=$((failed + sf))
    # The runner's own failure after schemathesis wrote its report (a crash counting reach) is one more.
    [ "$schemathesis_rc" != 0 ] && [ "$sf" = 0 ] && failed=$((failed + 1))
  else
    failed=$((failed + 1)); status=1
  fi
else
  echo "schemathesis environment setup failed"; failed=$((failed + 1)); status=1
fi

[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed" | tee .state/test-summary.txt
exit $status
