/**
 * `npm run build [-- gpu-function|cli]`: the JavaScript that production runs, bundled by esbuild with source maps.
 *   gpu-function/dist/server.js     the HTTP server (node gpu-function/dist/server.js)
 *   gpu-function/dist/inference.js  the inference child process it forks (runtime/layout.ts)
 *   cli/dist/ecomid.js              the ecomid command (cli/package.json's bin)
 * @ecomid/shared is bundled in: its entry points are TypeScript, which plain node cannot load.
 * onnxruntime-node and sharp stay external: native binaries, installed in the image by npm. So does
 * @contentauth/c2pa-wasm: its 9 MB c2pa.wasm is read from node_modules at run time (provenance/c2pa-wasm.ts).
 */
import { chmodSync, rmSync } from "node:fs";
import { build, type BuildOptions } from "esbuild";

const nodeBundle: BuildOptions = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  sourcemap: true,
  logLevel: "warning",
  // The same compiler settings typecheck uses for these files (esbuild would otherwise take the nearest tsconfig.json, the Workers one).
  tsconfig: "tsconfig.node.json",
};

async function buildGpuFunction(): Promise<void> {
  rmSync("gpu-function/dist", { recursive: true, force: true });
  await build({
    ...nodeBundle,
    entryPoints: { server: "gpu-function/src/server/main.ts", inference: "gpu-function/src/worker/worker-main.ts" },
    outdir: "gpu-function/dist",
    external: ["onnxruntime-node", "sharp", "@contentauth/c2pa-wasm"],
  });
}

async function buildCli(): Promise<void> {
  rmSync("cli/dist", { recursive: true, force: true });
  await build({
    ...nodeBundle,
    entryPoints: { ecomid: "cli/src/bin.ts" },
    outdir: "cli/dist",
    banner: { js: "#!/usr/bin/env node" },
  });
  chmodSync("cli/dist/ecomid.js", 0o755);
}

const targets = { "gpu-function": buildGpuFunction, cli: buildCli };
const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in targets));
if (unknown.length) {
  console.error(`unknown build target ${unknown.join(", ")}; known: ${Object.keys(targets).join(", ")}`);
  process.exit(2);
}
const chosen = asked.length ? (asked as (keyof typeof targets)[]) : (Object.keys(targets) as (keyof typeof targets)[]);
const started = performance.now();
await Promise.all(chosen.map((name) => targets[name]()));
console.log(`built ${chosen.map((name) => `${name}/dist`).join(" and ")} in ${Math.round(performance.now() - started)} ms`);
