import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GpuService } from "./support/gpu-service.js";

/**
 * EXECUTION_PROVIDER=auto (the default) on this CPU machine: CUDA is probed once, its absence is one info
 * line, and onnxruntime prints nothing (it printed one red error per graph when every graph tried CUDA).
 */
let service: GpuService;

beforeAll(async () => {
  service = await new GpuService({ EXECUTION_PROVIDER: "auto" }).ready();
});

afterAll(() => service?.kill());

describe("starting the GPU function with EXECUTION_PROVIDER=auto", () => {
  it("prints no onnxruntime error line", () => {
    const raw = service.logs.filter((l) => l.level === "raw").map((l) => l.msg);
    expect(raw.filter((line) => /onnxruntime|\[E:/.test(line))).toEqual([]);
  });

  it("logs CUDA's absence once, at info level, and loads every graph on CPU", () => {
    const ready = service.logs.find((l) => l.msg.startsWith("model ready on"));
    const absent = service.logs.filter((l) => l.msg.includes("CUDA execution provider"));
    if (ready?.msg === "model ready on CUDA") {
      expect(absent).toEqual([]); // a machine with a working CUDA provider: nothing to say
      return;
    }
    expect(ready?.msg).toBe("model ready on CPU");
    expect(absent).toEqual([
      expect.objectContaining({
        level: "info",
        msg: "CUDA execution provider unavailable; every graph runs on CPU",
        reason: expect.any(String),
      }),
    ]);
  });
});
