import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EdgePeer } from "../../gpu-function/test/support/edge-peer.js";
import { BUILT_SERVER, GpuService } from "../../gpu-function/test/support/gpu-service.js";
import { makeDevelopmentCertificate, type DevelopmentCertificate } from "../../gpu-function/src/provenance/development-certificate.js";
import { readC2pa } from "../../gpu-function/src/provenance/test-support/independent-readers.js";

/**
 * What production runs is the JavaScript `npm run build` makes (scripts/build.ts), with plain node and no tsx:
 * the GPU function's server and inference process, and the CLI. Built here, then run as the image runs them.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const GPU_OUTPUTS = ["gpu-function/dist/server.js", "gpu-function/dist/inference.js"];
const CLI_OUTPUT = "cli/dist/ecomid.js";

/** The modules a built file imports at run time: esbuild writes each as a top-level import (or a dynamic import()). */
function runtimeImports(file: string): Set<string> {
  const code = readFileSync(resolve(ROOT, file), "utf8");
  const statics = [...code.matchAll(/^(?:import|export|\}).*?from "([^"]+)";$|^import "([^"]+)";$/gm)].map((m) => m[1] ?? m[2]!);
  const dynamics = [...code.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1]!);
  return new Set([...statics, ...dynamics]);
}

beforeAll(() => {
  execFileSync("npm", ["run", "-s", "build"], { cwd: ROOT, stdio: "pipe" });
});

describe("npm run build", () => {
  it("writes the server and the inference process as separate files, and the CLI, each with its source map", () => {
    for (const file of [...GPU_OUTPUTS, CLI_OUTPUT]) {
      expect(existsSync(resolve(ROOT, file)), file).toBe(true);
      expect(existsSync(resolve(ROOT, `${file}.map`)), `${file}.map`).toBe(true);
    }
  });

  it("bundles everything but node's built-ins, the two native packages and the C2PA WebAssembly (no tsx, no TypeScript entry points)", () => {
    const external = ["onnxruntime-node", "sharp", "@contentauth/c2pa-wasm"];
    for (const file of GPU_OUTPUTS) {
      const outside = [...runtimeImports(file)].filter((m) => !m.startsWith("node:") && !external.includes(m));
      expect(outside, file).toEqual([]);
    }
    expect([...runtimeImports(CLI_OUTPUT)].filter((m) => !m.startsWith("node:"))).toEqual([]);
  });
});

describe("the built CLI", () => {
  it("answers --help with plain node, run directly or through the package's bin", () => {
    for (const entry of [CLI_OUTPUT, "cli/bin/ecomid.mjs"]) {
      const result = spawnSync(process.execPath, [entry, "--help"], { cwd: ROOT, encoding: "utf8" });
      expect(result.status, entry).toBe(0);
      expect(result.stdout, entry).toContain("ecomid generate --image");
    }
    expect(readFileSync(resolve(ROOT, CLI_OUTPUT), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  });

  it("says how to build it when the bin runs before a build", () => {
    const unbuilt = mkdtempSync(join(tmpdir(), "ecomid-cli-"));
    try {
      cpSync(resolve(ROOT, "cli/bin/ecomid.mjs"), join(unbuilt, "bin/ecomid.mjs"));
      const result = spawnSync(process.execPath, [join(unbuilt, "bin/ecomid.mjs"), "--help"], { encoding: "utf8" });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("npm run build");
    } finally {
      rmSync(unbuilt, { recursive: true, force: true });
    }
  });
});

describe("the built GPU function on the tiny bundle", () => {
  let peer: EdgePeer;
  let service: GpuService;
  let certificate: DevelopmentCertificate;

  beforeAll(async () => {
    peer = await new EdgePeer().start();
    certificate = makeDevelopmentCertificate();
    service = await new GpuService(
      {
        EXECUTION_PROVIDER: "auto",
        HOST: "127.0.0.1",
        C2PA_CERT_CHAIN_PEM: certificate.certChainPem,
        C2PA_PRIVATE_KEY_PEM: certificate.privateKeyPem,
        C2PA_DEVELOPMENT_CERTIFICATE: "true",
      },
      BUILT_SERVER,
    ).ready();
  });

  afterAll(() => {
    service?.kill();
    peer?.close();
  });

  it("forks the built inference file with plain node, not the TypeScript source under tsx", () => {
    const [child] = service.children();
    const args = execFileSync("ps", ["-o", "args=", "-p", String(child)], { encoding: "utf8" }).trim();
    expect(args).toMatch(/gpu-function\/dist\/inference\.js$/);
    expect(args).not.toContain("tsx");
  });

  it("loads the bundle on CPU without onnxruntime errors and answers /health", async () => {
    const health = (await (await fetch(`${service.url}/health`)).json()) as { status: string; model_ready: boolean };
    expect(health).toMatchObject({ status: "ok", model_ready: true });
    expect(service.logs.filter((l) => l.level === "raw" && /onnxruntime|\[E:/.test(l.msg))).toEqual([]);
  });

  it("runs a job through the GPU protocol to a succeeded callback with its output uploaded", async () => {
    const accepted = await service.dispatch(peer.job("job_built"));
    expect(accepted.status).toBe(202);
    const outcome = await peer.outcome("job_built");
    expect(outcome.body.type).toBe("succeeded");
    expect(peer.uploads.get("job_built/0")?.subarray(8, 12).toString("latin1")).toBe("WEBP");
  });

  it("signs a c2pa+iptc output with the C2PA WebAssembly loaded from node_modules (it is not bundled)", async () => {
    const accepted = await service.dispatch(peer.job("job_built_signed", { provenance: { embed: "c2pa+iptc", include_prompt: false } }));
    expect(accepted.status).toBe(202);
    const outcome = await peer.outcome("job_built_signed");
    expect(outcome.body).toMatchObject({ type: "succeeded", provenance: { embedded: "c2pa+iptc" } });
    const output = peer.uploads.get("job_built_signed/0");
    if (!output) throw new Error("the signed job uploaded no output");
    expect(readC2pa(output, "image/webp", certificate.caPem).validation_state).toBe("Trusted");
  });
});
