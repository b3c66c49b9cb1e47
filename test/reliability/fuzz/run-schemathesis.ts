/**
 * Property-based run of schemathesis against the served OpenAPI document, on a fresh
 * local stack: `npx tsx test/reliability/fuzz/run-schemathesis.ts [junit.xml]`.
 * Every check schemathesis has (`--checks all`, undeclared methods included); phases
 * coverage, fuzzing and stateful (the document's links lead from a created job or upload
 * to the operations that take its id). Each operation is sent with a key of the scope it
 * needs, and the fuzzer's own keys cannot be revoked by what it generates. Afterwards the
 * share of answers that reached each operation (not 401/403/404/429) is printed, and an
 * operation never reached fails the run. Bounded by SCHEMATHESIS_MAX_EXAMPLES per
 * operation (default 25) and SCHEMATHESIS_MAX_TIME seconds (default 240);
 * SCHEMATHESIS_SEED replays a run. Needs setup-schemathesis.sh first.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stopStack } from "../../e2e/support/stack.js";
import { FACE_PNG, startFixturePeer } from "./fixture-peer.js";
import { startFuzzStack } from "./fuzz-stack.js";
import { addReachToJunit, formatReach, reachedShare } from "./reached-share.js";

const HERE = import.meta.dirname;

async function newKey(base: string, adminKey: string, owner: string, scopes: string[]): Promise<{ id: string; key: string }> {
  const res = await fetch(`${base}/v1/admin/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ owner_id: owner, scopes, name: "schemathesis" }),
  });
  if (res.status !== 201) throw new Error(`schemathesis setup: creating a key gave ${res.status}: ${await res.text()}`);
  return (await res.json()) as { id: string; key: string };
}

/**
 * A finished job of the jobs key's owner with a webhook delivery: schemathesis meets a
 * delivery id only when one of its own jobs finished with a webhook before it listed the
 * deliveries, so the hook sends half of its redeliveries to this one.
 */
async function deliveryFixture(base: string, key: string, webhookUrl: string): Promise<string> {
  const auth = { authorization: `Bearer ${key}` };
  const face = readFileSync(FACE_PNG);
  const upload = (await (
    await fetch(`${base}/v1/uploads`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ content_type: "image/png", bytes: face.byteLength }),
    })
  ).json()) as { id: string; upload_url: string };
  await fetch(upload.upload_url, { method: "PUT", headers: { "content-type": "image/png" }, body: new Uint8Array(face) });
  const job = (await (
    await fetch(`${base}/v1/jobs`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({
        model: "ecomid-tiny",
        input: { reference_images: [{ upload_id: upload.id }], prompt: "a schemathesis fixture", seed: 3 },
        webhook: { url: webhookUrl },
      }),
    })
  ).json()) as { id: string };
  for (let i = 0; i < 600; i++) {
    const deliveries = (await (await fetch(`${base}/v1/jobs/${job.id}/webhook_deliveries`, { headers: auth })).json()) as {
      data?: Array<{ id: string }>;
    };
    const first = deliveries.data?.[0];
    if (first) return `${job.id}/${first.id}`;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`schemathesis setup: job ${job.id} made no webhook delivery`);
}

/**
 * The key of each security scheme the document names: bearerAuth (job routes) a key
 * with the jobs scopes, adminAuth (admin routes) an admin key. Given as schemathesis'
 * OpenAPI auth, so it knows them as credentials (and leaves them out where a case tests
 * a missing one).
 */
function configFile(keys: { admin: string; jobs: string }): string {
  return [`[auth.openapi.bearerAuth]`, `bearer = "${keys.jobs}"`, "", `[auth.openapi.adminAuth]`, `bearer = "${keys.admin}"`, ""].join(
    "\n",
  );
}

export async function runSchemathesis(junitPath: string): Promise<number> {
  // Creations reach the handler: the in-flight cap would answer nearly every one with 429.
  const fuzz = await startFuzzStack({ MAX_JOBS_IN_FLIGHT: "1000" });
  const peer = await startFixturePeer();
  const work = mkdtempSync(join(tmpdir(), "schemathesis-"));
  try {
    const base = fuzz.stack.edgeUrl;
    // Keys of the scopes the operations need, of owners of their own; a sacrificial one takes
    // every generated revocation aimed at them (see schemathesis_hooks.py).
    const jobs = await newKey(base, fuzz.adminKey, "schemathesis-jobs", ["jobs:read", "jobs:write"]);
    const admin = await newKey(base, fuzz.adminKey, "schemathesis-admin", ["admin"]);
    const sacrificial = await newKey(base, fuzz.adminKey, "schemathesis-sacrificial", ["jobs:read"]);
    const delivery = await deliveryFixture(base, jobs.key, peer.webhookUrl);
    const config = join(work, "schemathesis.toml");
    writeFileSync(config, configFile({ admin: admin.key, jobs: jobs.key }));
    const answersLog = join(work, "answers.jsonl");
    const seed = process.env.SCHEMATHESIS_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
    const args = [
      "--config-file",
      config,
      "run",
      `${base}/v1/openapi.json`,
      "--checks",
      "all",
      "--phases",
      "coverage,fuzzing,stateful",
      "--max-examples",
      process.env.SCHEMATHESIS_MAX_EXAMPLES ?? "25",
      "--max-time",
      process.env.SCHEMATHESIS_MAX_TIME ?? "240",
      "--seed",
      seed,
      "--workers",
      "2",
      "--request-timeout",
      "30",
      // Once more after a network-level failure: wrangler dev's proxy can park a GET in its retry queue when its hop
      // to the worker breaks (cloudflare/workers-sdk#14641; a CI run lost GET /v1/uploads/{id} that way for 30 s),
      // as the own fuzzer's sendHeldOnce does. A worker that never answers still fails the second try.
      "--request-retries",
      "1",
      "--suppress-health-check",
      "all",
      ...(process.env.SCHEMATHESIS_SHOW_SECRETS ? ["--output-sanitize", "false"] : []),
      "--report",
      "junit",
      "--report-junit-path",
      resolve(junitPath),
    ];
    console.log(`schemathesis: seed ${seed} (replay with SCHEMATHESIS_SEED=${seed}), against ${base}`);
    const code = await new Promise<number>((done) => {
      const child = spawn(resolve(HERE, ".venv/bin/schemathesis"), args, {
        stdio: "inherit",
        env: {
          ...process.env,
          SCHEMATHESIS_HOOKS: "schemathesis_hooks",
          PYTHONPATH: HERE,
          NO_COLOR: "1",
          FUZZ_IMAGE_URL: peer.imageUrl,
          FUZZ_WEBHOOK_URL: peer.webhookUrl,
          FUZZ_PROTECTED_KEY_IDS: [jobs.id, admin.id].join(","),
          FUZZ_SACRIFICIAL_KEY_ID: sacrificial.id,
          FUZZ_DELIVERY: delivery,
          FUZZ_FACE_PNG: FACE_PNG,
          FUZZ_ANSWERS_LOG: answersLog,
        },
      });
      child.on("exit", (c) => done(c ?? 1));
    });
    const doc = (await (await fetch(`${base}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const reach = reachedShare(answersLog, doc);
    console.log(formatReach(reach));
    addReachToJunit(resolve(junitPath), reach);
    return reach.some((r) => r.reached === 0) ? code || 1 : code;
  } finally {
    await peer.close();
    await stopStack(fuzz.stack.stateDir);
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSchemathesis(process.argv[2] ?? ".state/schemathesis.xml").then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
