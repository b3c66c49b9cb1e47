import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ModelBundleManifest } from "@ecomid/shared/manifest";
import { verifyBundle } from "@ecomid/shared/manifest/verify";
import { Graph, type SessionOptions } from "./onnx.js";
import { float32, type Tensor } from "./tensor.js";

export type GraphName = keyof ModelBundleManifest["graphs"];

/** A verified model bundle on disk: its manifest, graphs loaded on demand (once), and constants. */
export class ModelBundle {
  private readonly graphs = new Map<string, Promise<Graph>>();

  private constructor(
    readonly dir: string,
    readonly manifest: ModelBundleManifest,
    private readonly sessionOptions: SessionOptions,
  ) {}

  /** Refuses a bundle whose files do not match its manifest (size and sha256 of each). */
  static async open(dir: string, sessionOptions: SessionOptions, verify: { skipHashes?: boolean } = {}): Promise<ModelBundle> {
    const manifest = await verifyBundle(dir, verify);
    return new ModelBundle(dir, manifest, sessionOptions);
  }

  graph(name: GraphName): Promise<Graph> {
    let g = this.graphs.get(name);
    if (!g) {
      const spec = this.manifest.graphs[name];
      if (!spec) throw new Error(`bundle ${this.manifest.id} has no graph ${name}`);
      const path = join(this.dir, spec.file);
      g =
        this.sessionOptions.graphsInMemory === "one"
          ? Promise.resolve(
              Graph.onDemand(
                name,
                path,
                this.sessionOptions,
                { inputs: spec.inputs.map((t) => t.name), outputs: spec.outputs.map((t) => t.name) },
                (loading) => this.unloadAllBut(loading),
              ),
            )
          : Graph.load(name, path, this.sessionOptions);
      this.graphs.set(name, g);
    }
    return g;
  }

  async constant(name: keyof ModelBundleManifest["constants"]): Promise<Tensor<Float32Array>> {
    const spec = this.manifest.constants[name];
    const bytes = await readFile(join(this.dir, spec.file));
    const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return float32(data, spec.shape as number[]);
  }

  /** The graphs whose sessions are in memory now. */
  async loadedGraphs(): Promise<string[]> {
    const graphs = await Promise.all(this.graphs.values());
    return graphs.filter((g) => g.loaded).map((g) => g.name);
  }

  /** graphsInMemory "one": every other graph's session is freed before `keep` loads. */
  private async unloadAllBut(keep: Graph): Promise<void> {
    for (const g of this.graphs.values()) {
      const graph = await g;
      if (graph !== keep && graph.loaded) await graph.unload();
    }
  }

  async release(): Promise<void> {
    for (const g of this.graphs.values()) await (await g).release();
    this.graphs.clear();
  }
}
