import { fileURLToPath } from "node:url";

/**
 * Where the GPU function's own files are, for the code running now. The build (`npm run build`) puts each entry
 * in one file, gpu-function/dist/server.js and dist/inference.js; in development and tests the TypeScript source
 * runs under tsx from gpu-function/src/<folder>/<file>.ts. The running module's extension tells which.
 */
export interface GpuFunctionLayout {
  built: boolean;
  /** The inference child process's entry, and the node flags it needs. */
  inferenceEntry: string;
  inferenceExecArgv: string[];
  assetsDir: string;
  /** gpu-function/package.json: its version names this software in the outputs' labels. */
  packageJson: string;
}

export function gpuFunctionLayout(moduleUrl: string): GpuFunctionLayout {
  const built = !/\.[cm]?ts$/.test(new URL(moduleUrl).pathname);
  const packageRoot = new URL(built ? "../" : "../../", moduleUrl);
  return {
    built,
    inferenceEntry: fileURLToPath(new URL(built ? "dist/inference.js" : "src/worker/worker-main.ts", packageRoot)),
    // Built code carries source maps, so stack traces in logs name the TypeScript lines.
    inferenceExecArgv: built ? ["--enable-source-maps"] : ["--import", "tsx"],
    assetsDir: fileURLToPath(new URL("assets/", packageRoot)),
    packageJson: fileURLToPath(new URL("package.json", packageRoot)),
  };
}

/** Bundled, import.meta.url is the output file's (dist/*.js), not this module's. */
export const layout = gpuFunctionLayout(import.meta.url);
