import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GpuService } from "../../gpu-function/test/support/gpu-service.js";

/**
 * There is no Docker engine here, so this replays infra/gpu-function/Dockerfile as written, one temporary folder
 * per stage standing for its /app: COPY from the repository's files (or an earlier stage), every RUN that is an
 * npm command, ENV, and the final CMD, started on the tiny bundle. RUNs for the OS (apt-get, useradd) are left
 * to Docker. onnxruntime-node's CUDA download is skipped (ONNXRUNTIME_NODE_INSTALL=skip wins over the
 * Dockerfile's flag): it needs NuGet, and a CPU machine cannot use it.
 */
const ROOT = resolve(import.meta.dirname, "../..");
const DOCKERFILE = "infra/gpu-function/Dockerfile";

interface Stage {
  name: string;
  dir: string;
  env: Record<string, string>;
  cmd: string[] | null;
  ran: string[];
}

/** The files the build context sends: the repository's (what git does not ignore), filtered by the Dockerfile's own .dockerignore. */
function contextFiles(): string[] {
  const excluded = dockerignore(readFileSync(join(ROOT, `${DOCKERFILE}.dockerignore`), "utf8"));
  return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  })
    .split("\0")
    .filter((file) => file && existsSync(join(ROOT, file)) && !excluded(file));
}

/**
 * .dockerignore's rules as far as that file uses them: a pattern (`*` within a name, `**` across folders) matches
 * a path or any folder above it, `!` takes a match back in, and the last matching line decides.
 */
function dockerignore(text: string): (file: string) => boolean {
  const rules = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const include = line.startsWith("!");
      const pattern = (include ? line.slice(1) : line).replace(/\/$/, "");
      const source = pattern
        .split("/")
        .map((part) =>
          part === "**"
            ? ".*"
            : part
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\*/g, "[^/]*")
                .replace(/\?/g, "[^/]"),
        )
        .join("/")
        .replace(/^\.\*\//, "(?:.*/)?");
      return { include, regex: new RegExp(`^${source}$`) };
    });
  return (file) => {
    const parts = file.split("/");
    const paths = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    let excluded = false;
    for (const rule of rules) if (paths.some((path) => rule.regex.test(path))) excluded = !rule.include;
    return excluded;
  };
}

function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(" ") };
    });
}

/** COPY [--from=stage] src... dest, with dest inside /app (WORKDIR). */
function copy(args: string, stage: Stage, stages: Map<string, Stage>, files: string[]): void {
  const words = args.split(/\s+/);
  const from = words[0]!.startsWith("--from=") ? stages.get(words.shift()!.slice("--from=".length))! : null;
  const dest = words.pop()!;
  for (const src of words) {
    const target = join(stage.dir, dest.endsWith("/") ? join(dest, posix.basename(src)) : dest);
    if (from) {
      cpSync(join(from.dir, posix.relative("/app", src)), target, { recursive: true });
      continue;
    }
    const inside = files.filter((file) => file === src || file.startsWith(`${src.replace(/\/$/, "")}/`));
    if (inside.length === 0) throw new Error(`${DOCKERFILE}: COPY ${src}: nothing in the build context`);
    for (const file of inside) {
      const to = file === src ? target : join(target, file.slice(src.replace(/\/$/, "").length + 1));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(join(ROOT, file), to);
    }
  }
}

/** The npm running this test exports its settings (npm_config_local_prefix: this checkout); a stage's npm must find its own. */
function withoutNpmSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !/^npm_/i.test(key)));
}

function replay(workRoot: string): Stage[] {
  const files = contextFiles();
  const stages = new Map<string, Stage>();
  const order: Stage[] = [];
  let stage: Stage | null = null;
  for (const { op, args } of instructions(readFileSync(join(ROOT, DOCKERFILE), "utf8"))) {
    if (op === "FROM") {
      const name = args.match(/\bAS\s+(\S+)/i)?.[1] ?? `stage${order.length}`;
      stage = { name, dir: mkdtempSync(join(workRoot, `${name}-`)), env: {}, cmd: null, ran: [] };
      stages.set(name, stage);
      order.push(stage);
    } else if (!stage) {
      throw new Error(`${DOCKERFILE}: ${op} before FROM`);
    } else if (op === "WORKDIR") {
      if (args !== "/app") throw new Error(`${DOCKERFILE}: WORKDIR ${args}: the replay stands each stage's folder for /app`);
    } else if (op === "COPY") {
      copy(args, stage, stages, files);
    } else if (op === "ENV") {
      for (const [, key, value] of args.matchAll(/(\w+)=(\S+)/g)) stage.env[key!] = value!;
    } else if (op === "RUN" && /^npm\s/.test(args)) {
      execFileSync("bash", ["-euo", "pipefail", "-c", args], {
        cwd: stage.dir,
        env: { ...withoutNpmSettings(process.env), ...stage.env, ONNXRUNTIME_NODE_INSTALL: "skip", npm_config_prefer_offline: "true" },
        stdio: "pipe",
        maxBuffer: 64 << 20,
      });
      stage.ran.push(args);
    } else if (op === "CMD") {
      stage.cmd = JSON.parse(args) as string[];
    }
  }
  return order;
}

describe(`${DOCKERFILE}, replayed without Docker`, () => {
  const workRoot = mkdtempSync(join(tmpdir(), "ecomid-image-"));
  let stages: Stage[] = [];
  let runtime: Stage;
  let service: GpuService | undefined;

  beforeAll(() => {
    stages = replay(workRoot);
    runtime = stages.at(-1)!;
  }, 600_000);

  afterAll(() => {
    service?.kill();
    rmSync(workRoot, { recursive: true, force: true });
  });

  it("sends a build context of what the COPY lines need: no bundles, tests, local installs or builds", () => {
    const context = contextFiles();
    expect(context).toEqual(
      expect.arrayContaining([
        "package-lock.json",
        "scripts/build.ts",
        "edge/package.json",
        "gpu-function/src/server/main.ts",
        "gpu-function/assets/warm-up-face.jpg",
      ]),
    );
    expect(context.filter((file) => /^(bundles|test|edge\/src|gpu-function\/test)\/|(^|\/)(node_modules|dist)\//.test(file))).toEqual([]);
  });

  it("builds in its own stage and installs in the runtime stage with npm ci", () => {
    expect(stages.map((s) => s.name)).toEqual(["build", expect.any(String)]);
    expect(stages[0]!.ran.join("\n")).toMatch(/npm ci[\s\S]*npm run build/);
    expect(existsSync(join(stages[0]!.dir, "gpu-function/dist/server.js"))).toBe(true);
    expect(runtime.ran.join("\n")).toMatch(/npm ci --omit=dev --workspace @ecomid\/gpu-function/);
  });

  it("ships the built files and only the GPU function's runtime dependencies: no tsx, no esbuild, no TypeScript source", () => {
    expect(existsSync(join(runtime.dir, "gpu-function/dist/server.js"))).toBe(true);
    expect(existsSync(join(runtime.dir, "gpu-function/dist/inference.js"))).toBe(true);
    expect(existsSync(join(runtime.dir, "node_modules/onnxruntime-node"))).toBe(true);
    expect(existsSync(join(runtime.dir, "node_modules/sharp"))).toBe(true);
    // Kept out of the bundle (scripts/build.ts): the inference process reads its c2pa.wasm (exported from pkg/c2pa_bg.wasm) from here to sign outputs.
    expect(existsSync(join(runtime.dir, "node_modules/@contentauth/c2pa-wasm/pkg/c2pa_bg.wasm"))).toBe(true);
    for (const dev of ["tsx", "esbuild", "typescript", "wrangler", "vitest"])
      expect(existsSync(join(runtime.dir, "node_modules", dev)), dev).toBe(false);
    expect(existsSync(join(runtime.dir, "gpu-function/src"))).toBe(false);
  });

  it("lets onnxruntime-node's install script run (allowScripts holds a real true, not the string)", () => {
    const pkg = JSON.parse(readFileSync(join(runtime.dir, "package.json"), "utf8")) as { allowScripts: Record<string, unknown> };
    expect(pkg.allowScripts["onnxruntime-node"]).toBe(true);
  });

  it("starts from its CMD with plain node and serves the tiny bundle", async () => {
    expect(runtime.cmd).toEqual(["node", "--enable-source-maps", "gpu-function/dist/server.js"]);
    // The image's settings, except where this machine differs: loopback, a free port, the tiny bundle, no GPU.
    const { PORT: _port, ...env } = runtime.env;
    const local = { ...env, HOST: "127.0.0.1", BUNDLE_DIR: join(ROOT, "bundles/tiny"), EXECUTION_PROVIDER: "auto" };
    service = await new GpuService(local, runtime.cmd!.slice(1), runtime.dir).ready();
    const health = (await (await fetch(`${service.url}/health`)).json()) as { model_ready: boolean; execution_provider: string };
    expect(health).toMatchObject({ model_ready: true, execution_provider: "cpu" });
  });
});
