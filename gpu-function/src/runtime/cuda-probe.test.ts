import * as ort from "onnxruntime-node";
import { describe, expect, it, vi } from "vitest";
import { chooseProvider, cudaProviderLibrary, identityModel, probeCuda } from "./cuda-probe.js";

const LIBRARY = "/ort/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so";

describe("probeCuda", () => {
  it("does not ask onnxruntime when the CUDA provider library is not installed (no red errors on CPU machines)", async () => {
    const tryCudaSession = vi.fn(async () => {});
    const probe = await probeCuda({ providerLibrary: LIBRARY, exists: () => false, tryCudaSession });
    expect(probe).toEqual({ available: false, reason: expect.stringContaining(LIBRARY) });
    expect(tryCudaSession).not.toHaveBeenCalled();
  });

  it("does not ask onnxruntime on a platform without a CUDA build", async () => {
    const tryCudaSession = vi.fn(async () => {});
    const probe = await probeCuda({ providerLibrary: null, exists: () => true, tryCudaSession });
    expect(probe.available).toBe(false);
    expect(tryCudaSession).not.toHaveBeenCalled();
  });

  it("tries one session when the library is there, and keeps the first line of onnxruntime's refusal", async () => {
    const refusal = new Error("CUDA failure 100: no CUDA-capable device is detected\n  at provider_bridge_ort.cc");
    const probe = await probeCuda({ providerLibrary: LIBRARY, exists: () => true, tryCudaSession: () => Promise.reject(refusal) });
    expect(probe).toEqual({ available: false, reason: "CUDA failure 100: no CUDA-capable device is detected" });
  });

  it("says available when the session starts", async () => {
    expect(await probeCuda({ providerLibrary: LIBRARY, exists: () => true, tryCudaSession: async () => {} })).toEqual({ available: true });
  });
});

describe("chooseProvider", () => {
  it("takes CUDA whenever it started", () => {
    expect(chooseProvider("auto", { available: true })).toBe("cuda");
    expect(chooseProvider("cuda", { available: true })).toBe("cuda");
  });

  it("falls back to CPU on auto, and refuses when CUDA was required", () => {
    const absent = { available: false as const, reason: "not installed" };
    expect(chooseProvider("auto", absent)).toBe("cpu");
    expect(() => chooseProvider("cuda", absent)).toThrow(/EXECUTION_PROVIDER=cuda.*not installed/);
  });
});

describe("cudaProviderLibrary", () => {
  it("names onnxruntime's provider library beside the binding, on the platforms with a CUDA build", () => {
    expect(cudaProviderLibrary("/b", "linux")).toBe("/b/libonnxruntime_providers_cuda.so");
    expect(cudaProviderLibrary("/b", "win32")).toMatch(/onnxruntime_providers_cuda\.dll$/);
    expect(cudaProviderLibrary("/b", "darwin")).toBeNull();
  });
});

describe("identityModel", () => {
  it("is a model onnxruntime loads and runs (on CPU here)", async () => {
    const session = await ort.InferenceSession.create(identityModel(), { executionProviders: ["cpu"] });
    expect(session.inputNames).toEqual(["x"]);
    const { y } = await session.run({ x: new ort.Tensor("float32", Float32Array.from([2.5]), [1]) });
    expect(Array.from(y!.data as Float32Array)).toEqual([2.5]);
    await session.release();
  });
});
