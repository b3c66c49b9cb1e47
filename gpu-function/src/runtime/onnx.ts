import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { chooseProvider, cudaProviderLibrary, identityModel, probeCuda, type CudaProbe } from "./cuda-probe.js";
import type { Logger } from "./log.js";
import type { Tensor, TensorData } from "./tensor.js";

/** The only module that imports onnxruntime-node. */
export type ProviderChoice = "auto" | "cuda" | "cpu";
export type Provider = "cuda" | "cpu";

export type GraphOptimizationLevel = "disabled" | "basic" | "extended" | "all";

export interface SessionOptions {
  provider: ProviderChoice;
  /** Threads for one graph on CPU; 0 lets onnxruntime decide. */
  intraOpThreads?: number;
  /** onnxruntime's graph fusions (default "all"); fewer change its summation order, not its results beyond rounding. */
  graphOptimizationLevel?: GraphOptimizationLevel;
  log?: Logger;
  /**
   * "all" (default): every graph's session stays loaded. "one": a graph's session is created when it runs, in
   * the CPU provider's least-memory settings (leastMemoryOptions), and the bundle unloads every other one first,
   * so one graph's weights are in memory at a time: a full-size bundle's graphs do not all fit in 24 GiB on CPU.
   * Sessions are created again per job: for a CPU rehearsal, not for serving.
   */
  graphsInMemory?: "all" | "one";
}

export class GraphRunError extends Error {
  override readonly name = "GraphRunError";
}

/** One ONNX graph in one session; feeds are checked against the graph's inputs before every run. */
export class Graph {
  private constructor(
    readonly name: string,
    private session: ort.InferenceSession | null,
    readonly provider: Provider,
    private readonly onDemand: {
      load: () => Promise<ort.InferenceSession>;
      beforeLoad: (g: Graph) => Promise<void>;
      inputs: string[];
      outputs: string[];
    } | null = null,
  ) {}

  /**
   * Loads a graph on the provider the process-wide CUDA probe chose ("auto", "cuda"), or on CPU. A graph that
   * fails on a CUDA provider that did start (out of memory, an unsupported node) falls back to CPU on "auto".
   */
  static async load(name: string, path: string, options: SessionOptions): Promise<Graph> {
    const base = baseOptions(options);
    if ((await providerFor(options)) === "cuda") {
      try {
        const session = await ort.InferenceSession.create(path, { ...base, executionProviders: ["cuda"] });
        return new Graph(name, session, "cuda");
      } catch (e) {
        if (options.provider === "cuda")
          throw new GraphRunError(`graph ${name}: the CUDA execution provider could not start: ${(e as Error).message}`);
        options.log?.("warn", "graph failed on the CUDA execution provider; running it on CPU", {
          graph: name,
          reason: (e as Error).message.split("\n")[0],
        });
      }
    }
    const session = await ort.InferenceSession.create(path, { ...base, executionProviders: ["cpu"] });
    return new Graph(name, session, "cpu");
  }

  /**
   * A CPU graph whose session is created at its first run after `beforeLoad` (which frees the others), and can be
   * unloaded again; its input and output names come from the manifest, in the graph's order.
   */
  static onDemand(
    name: string,
    path: string,
    options: SessionOptions,
    names: { inputs: string[]; outputs: string[] },
    beforeLoad: (g: Graph) => Promise<void>,
  ): Graph {
    if (options.provider !== "cpu") throw new GraphRunError(`graph ${name}: graphsInMemory "one" is for the CPU provider only`);
    const load = () => ort.InferenceSession.create(path, { ...leastMemoryOptions(options), executionProviders: ["cpu"] });
    return new Graph(name, null, "cpu", { load, beforeLoad, ...names });
  }

  get loaded(): boolean {
    return this.session !== null;
  }

  /** Frees the session; an on-demand graph loads it again at its next run. */
  async unload(): Promise<void> {
    const session = this.session;
    this.session = null;
    await session?.release();
  }

  private async ready(): Promise<ort.InferenceSession> {
    if (!this.session) {
      if (!this.onDemand) throw new GraphRunError(`graph ${this.name} was released`);
      await this.onDemand.beforeLoad(this);
      this.session = await this.onDemand.load();
    }
    return this.session;
  }

  get inputNames(): readonly string[] {
    return this.onDemand?.inputs ?? this.session!.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.onDemand?.outputs ?? this.session!.outputNames;
  }

  async run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor<Float32Array>>> {
    const session = await this.ready();
    const missing = session.inputNames.filter((n) => !(n in feeds));
    const extra = Object.keys(feeds).filter((n) => !session.inputNames.includes(n));
    if (missing.length || extra.length) {
      throw new GraphRunError(`graph ${this.name}: missing inputs [${missing}] unexpected inputs [${extra}]`);
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(dtypeOf(t.data), t.data, t.dims);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await session.run(ortFeeds);
    } catch (e) {
      // Shapes and types, never tensor values, so logs stay small and free of user data.
      const described = Object.entries(feeds)
        .map(([n, t]) => `${n}:${dtypeOf(t.data)}[${t.dims}]`)
        .join(" ");
      throw new GraphRunError(`graph ${this.name} failed on ${described}: ${(e as Error).message}`);
    }
    const out: Record<string, Tensor<Float32Array>> = {};
    for (const [name, t] of Object.entries(results)) {
      if (!(t.data instanceof Float32Array)) throw new GraphRunError(`graph ${this.name}: output ${name} is ${t.type}, expected float32`);
      out[name] = { data: t.data, dims: t.dims };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.unload();
  }
}

let cudaProbe: Promise<CudaProbe> | null = null;

/** The provider for one graph; CUDA is probed at most once per process, and its absence is logged once. */
async function providerFor(options: SessionOptions): Promise<Provider> {
  if (options.provider === "cpu") return "cpu";
  cudaProbe ??= probeCuda({
    providerLibrary: cudaProviderLibrary(ortBindingDir(), process.platform),
    exists: existsSync,
    tryCudaSession: async () => {
      const session = await ort.InferenceSession.create(identityModel(), { executionProviders: ["cuda"] });
      await session.release();
    },
  }).then((probe) => {
    if (!probe.available && options.provider === "auto")
      options.log?.("info", "CUDA execution provider unavailable; every graph runs on CPU", { reason: probe.reason });
    return probe;
  });
  const probe = await cudaProbe;
  try {
    return chooseProvider(options.provider, probe);
  } catch (e) {
    throw new GraphRunError((e as Error).message);
  }
}

/** onnxruntime-node's native binding and libraries: bin/napi-v6/<platform>/<arch> beside its dist/index.js. */
function ortBindingDir(): string {
  const entry = createRequire(import.meta.url).resolve("onnxruntime-node");
  return join(dirname(entry), "..", "bin", "napi-v6", process.platform, process.arch);
}

/**
 * The CPU provider has no fp16 kernels on x86 and casts every fp16 weight to fp32. Optimised ("all"), it folds
 * those casts into fp32 copies held for the session, then prepacks them: the real fp16 denoiser grew past 20 GB
 * here. Unoptimised, without prepacking or the arena, each cast is made when its node runs and freed after:
 * 0.2 GB after loading, 4.8 GB at its peak in a run (infra/export's verification uses the same settings).
 * Slower per step, which a rehearsal on CPU can afford. An explicit graphOptimizationLevel still wins.
 */
function leastMemoryOptions(options: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    ...baseOptions(options),
    graphOptimizationLevel: options.graphOptimizationLevel ?? "disabled",
    enableCpuMemArena: false,
    enableMemPattern: false,
    extra: { session: { disable_prepacking: "1" } },
  };
}

function baseOptions(options: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
  };
}

function dtypeOf(data: TensorData): "float32" | "int64" | "int32" | "uint8" {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Int32Array) return "int32";
  return "uint8";
}
