import { describe, expect, it } from "vitest";
import { gpuFunctionLayout, layout } from "./layout.js";

describe("gpuFunctionLayout", () => {
  it("runs the inference process from its TypeScript source under tsx when the running module is TypeScript", () => {
    expect(gpuFunctionLayout("file:///app/gpu-function/src/server/job-runner.ts")).toEqual({
      built: false,
      inferenceEntry: "/app/gpu-function/src/worker/worker-main.ts",
      inferenceExecArgv: ["--import", "tsx"],
      assetsDir: "/app/gpu-function/assets/",
      packageJson: "/app/gpu-function/package.json",
    });
  });

  it("runs the built inference file with plain node (source maps on) when the running module is the build's", () => {
    expect(gpuFunctionLayout("file:///app/gpu-function/dist/server.js")).toEqual({
      built: true,
      inferenceEntry: "/app/gpu-function/dist/inference.js",
      inferenceExecArgv: ["--enable-source-maps"],
      assetsDir: "/app/gpu-function/assets/",
      packageJson: "/app/gpu-function/package.json",
    });
    expect(gpuFunctionLayout("file:///app/gpu-function/dist/inference.js").inferenceEntry).toBe("/app/gpu-function/dist/inference.js");
  });

  it("finds this checkout's files from the source it runs now", () => {
    expect(layout.built).toBe(false);
    expect(layout.inferenceEntry).toMatch(/gpu-function\/src\/worker\/worker-main\.ts$/);
    expect(layout.assetsDir).toMatch(/gpu-function\/assets\/$/);
  });
});
