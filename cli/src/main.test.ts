import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fakeJob, problem, sendJson, sseFrame, startFakeApi, type FakeHandler } from "@ecomid/shared/sdk/testing";
import { resolveConfig } from "./config.js";
import { EXIT } from "./exit-codes.js";
import { run, splitGlobals } from "./main.js";

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

async function cli(handler: FakeHandler, ...argv: string[]) {
  const fake = await startFakeApi(handler);
  stop = fake.close;
  let stdout = "";
  let stderr = "";
  const code = await run(
    [...argv, "--base-url", fake.baseUrl, "--api-key", "ek_test_k"],
    {},
    {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      signal: new AbortController().signal,
    },
  );
  return { code, stdout, stderr, requests: fake.requests };
}

/** A loopback port nothing listens on: bind one, then free it. */
async function closedPortUrl(): Promise<string> {
  const fake = await startFakeApi(() => {});
  await fake.close();
  return fake.baseUrl;
}

function tmp(): string {
  const dir = mkdtempSync(join(tmpdir(), "ecomid-cli-"));
  writeFileSync(join(dir, "face.png"), PNG);
  return dir;
}

const output = {
  index: 0,
  url: "/files/o",
  url_expires_at: "2026-11-26T09:00:00.000Z",
  content_type: "image/webp",
  width: 64,
  height: 64,
  bytes: 4,
  sha256: "x",
  seed: 1,
  identity_similarity: 0.42,
};

describe("ecomid generate", () => {
  it("uploads the face, follows the events and saves the outputs with the job's JSON", async () => {
    const dir = tmp();
    const r = await cli(
      (req, res) => {
        if (req.method === "POST") return sendJson(res, 201, fakeJob());
        if (req.url.endsWith("/events")) {
          return res
            .writeHead(200, { "content-type": "text/event-stream" })
            .end(
              sseFrame(1, "job.queued") +
                sseFrame(2, "job.progress", { progress: { stage: "denoising", step: 2, total_steps: 4 } }) +
                sseFrame(3, "job.succeeded"),
            );
        }
        if (req.url.includes("/outputs/0")) return res.writeHead(200, { "content-type": "image/webp" }).end("RIFF");
        sendJson(res, 200, fakeJob({ status: "succeeded", output: [output] }));
      },
      "generate",
      "--image",
      join(dir, "face.png"),
      "--prompt",
      "a portrait",
      "--model",
      "ecomid-tiny",
      "--steps",
      "4",
      "--out",
      join(dir, "out"),
    );
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toContain("[############------------]  50% 2/4 denoising");
    expect(r.stderr).toMatch(/succeeded.*identity similarity 0\.420/);
    const id = fakeJob().id;
    expect(readdirSync(join(dir, "out")).sort()).toEqual([`${id}-0.webp`, `${id}.json`]);
    expect(JSON.parse(readFileSync(join(dir, "out", `${id}.json`), "utf8")).output[0].identity_similarity).toBe(0.42);
    expect(r.stdout.trim().split("\n")).toHaveLength(2);
    expect(String(r.requests[0]!.headers["content-type"])).toMatch(/^multipart\/form-data/);
  });

  it("exits 4 with the failure's advice when the job fails", async () => {
    const dir = tmp();
    const failed = fakeJob({
      status: "failed",
      error: { code: "face_not_detected", message: "no face in the reference", retryable: false },
    });
    const r = await cli(
      (req, res) => (req.method === "POST" ? sendJson(res, 201, failed) : sendJson(res, 200, failed)),
      "generate",
      "-i",
      join(dir, "face.png"),
      "-p",
      "x",
      "--model",
      "m",
      "--no-wait",
    );
    expect(r.code).toBe(EXIT.ok); // --no-wait: created is success
    const waited = await cli(
      (req, res) =>
        req.url.endsWith("/events")
          ? res.writeHead(200, { "content-type": "text/event-stream" }).end(sseFrame(1, "job.failed"))
          : sendJson(res, 200, failed),
      "jobs",
      "wait",
      failed.id,
    );
    expect(waited.code).toBe(EXIT.jobFailed);
    expect(waited.stderr).toContain("face_not_detected: no face in the reference. No face was found in the photo");
  });

  it("exits 3 with one line naming the code and the advice when the API refuses", async () => {
    const dir = tmp();
    const r = await cli(
      (_req, res) => sendJson(res, 422, problem(422, "parameter_out_of_range", "/input/width: must be a multiple of 64")),
      "generate",
      "-i",
      join(dir, "face.png"),
      "-p",
      "x",
      "--model",
      "ecomid-tiny",
      "--width",
      "100",
    );
    expect(r.code).toBe(EXIT.apiError);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /ecomid: error parameter_out_of_range: \/input\/width: must be a multiple of 64\. A setting is outside .*\(request req_test\)/,
    );
  });

  it("exits 2 for usage errors without calling the API", async () => {
    const r = await cli(() => {}, "generate", "-i", "/nonexistent/face.png", "-p", "x", "--model", "m");
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain("cannot read /nonexistent/face.png: no such file");
    expect(r.requests).toHaveLength(0);
  });

  it("exits 1 with a hint when the API cannot be reached", async () => {
    let stderr = "";
    const code = await run(
      ["jobs", "get", "job_x", "--base-url", await closedPortUrl(), "--api-key", "k"],
      {},
      { stdout: { write: () => 0 }, stderr: { write: (t: string) => (stderr += t) }, signal: new AbortController().signal },
    );
    expect(code).toBe(EXIT.unexpected);
    expect(stderr).toMatch(/cannot reach the API \(ECONNREFUSED\).*npm start/);
  });
});

describe("ecomid jobs and keys", () => {
  it("exits 130 on Ctrl-C while waiting, saying the job keeps running", async () => {
    const fake = await startFakeApi((_req, res) => sendJson(res, 200, fakeJob({ status: "running" })));
    stop = fake.close;
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("interrupted")), 100);
    let stderr = "";
    const code = await run(
      ["jobs", "wait", "job_x", "--base-url", fake.baseUrl, "--api-key", "k"],
      {},
      { stdout: { write: () => 0 }, stderr: { write: (t: string) => (stderr += t) }, signal: controller.signal },
    );
    expect(code).toBe(EXIT.interrupted);
    expect(stderr).toContain("ecomid jobs cancel <id>");
  });

  it("lists jobs one line each", async () => {
    const r = await cli(
      (_req, res) => sendJson(res, 200, { object: "list", data: [fakeJob({ status: "succeeded" })], has_more: false, next_cursor: null }),
      "jobs",
      "list",
      "--status",
      "succeeded",
    );
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toBe(`${fakeJob().id}  succeeded  ecomid-tiny  2026-11-26T08:00:00.000Z  "a portrait"\n`);
    expect(r.requests[0]!.url).toBe("/v1/jobs?status=succeeded&limit=20");
  });

  it("creates a key through the admin endpoint and prints only the key on stdout", async () => {
    const created = {
      id: "key_1",
      object: "api_key",
      owner_id: "acme",
      name: "default",
      prefix: "ek_test_ab",
      scopes: ["jobs:read"],
      created_at: "2026-11-26T08:00:00.000Z",
      revoked_at: null,
      key: "ek_test_secret",
    };
    const r = await cli((_req, res) => sendJson(res, 201, created), "keys", "create", "--owner", "acme", "--scopes", "jobs:read");
    expect([r.code, r.stdout]).toEqual([EXIT.ok, "ek_test_secret\n"]);
    expect(JSON.parse(r.requests[0]!.body.toString())).toEqual({ owner_id: "acme", scopes: ["jobs:read"] });
  });
});

describe("configuration", () => {
  it("takes global flags from anywhere on the line", () => {
    expect(splitGlobals(["jobs", "--api-key=k1", "list", "--json", "--base-url", "http://h"])).toEqual({
      command: "jobs",
      rest: ["list"],
      flags: { "api-key": "k1", "base-url": "http://h" },
      json: true,
    });
  });

  it("prefers flags, then the environment, then .state/dev-key.txt", () => {
    const dir = mkdtempSync(join(tmpdir(), "ecomid-cfg-"));
    mkdirSync(join(dir, ".state"));
    writeFileSync(join(dir, ".state", "dev-key.txt"), "ek_test_dev\n");
    expect(resolveConfig({}, {}, dir)).toMatchObject({ baseUrl: "http://127.0.0.1:8787", apiKey: "ek_test_dev" });
    expect(resolveConfig({}, { ECOMID_API_KEY: "ek_env", ECOMID_BASE_URL: "https://api.x" }, dir)).toMatchObject({
      baseUrl: "https://api.x",
      apiKey: "ek_env",
    });
    expect(resolveConfig({ "api-key": "ek_flag", "base-url": "http://b" }, { ECOMID_API_KEY: "ek_env" }, dir)).toMatchObject({
      baseUrl: "http://b",
      apiKey: "ek_flag",
    });
    expect(() => resolveConfig({ "base-url": "ftp://x" }, {}, dir)).toThrow(/must start with http/);
  });
});
