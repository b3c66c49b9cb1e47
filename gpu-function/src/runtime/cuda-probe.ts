import { join } from "node:path";

/**
 * Whether onnxruntime's CUDA execution provider can start, asked once per process. onnxruntime-node has no
 * fallback of its own and prints a red error for every session that asks for CUDA where it cannot start, so
 * the answer is found once here (without asking onnxruntime at all when the provider library is not even
 * installed) and every graph is then created on the provider it gives.
 */
export type CudaProbe = { available: true } | { available: false; reason: string };

export interface CudaProbeDeps {
  /** The CUDA provider library onnxruntime would load, or null on a platform onnxruntime-node ships no CUDA build for. */
  providerLibrary: string | null;
  exists: (path: string) => boolean;
  /** Creates one tiny session on the CUDA provider; throws when the provider cannot start. */
  tryCudaSession: () => Promise<void>;
}

export async function probeCuda(deps: CudaProbeDeps): Promise<CudaProbe> {
  if (deps.providerLibrary === null)
    return { available: false, reason: "onnxruntime-node has no CUDA execution provider for this platform" };
  if (!deps.exists(deps.providerLibrary)) {
    return { available: false, reason: `onnxruntime-node's CUDA execution provider is not installed (no ${deps.providerLibrary})` };
  }
  try {
    await deps.tryCudaSession();
    return { available: true };
  } catch (e) {
    return { available: false, reason: (e instanceof Error ? e.message : String(e)).split("\n")[0]! };
  }
}

/** "cpu" never probes; "auto" takes CUDA when it can start; "cuda" without it is a configuration error. */
export function chooseProvider(choice: "auto" | "cuda", probe: CudaProbe): "cuda" | "cpu" {
  if (probe.available) return "cuda";
  if (choice === "cuda") throw new Error(`EXECUTION_PROVIDER=cuda, but the CUDA execution provider cannot start: ${probe.reason}`);
  return "cpu";
}

/** onnxruntime loads execution-provider libraries from the folder of its own library, beside onnxruntime-node's binding. */
export function cudaProviderLibrary(bindingDir: string, platform: NodeJS.Platform): string | null {
  if (platform === "linux") return join(bindingDir, "libonnxruntime_providers_cuda.so");
  if (platform === "win32") return join(bindingDir, "onnxruntime_providers_cuda.dll");
  return null;
}

/**
 * The smallest model onnxruntime accepts, y = Identity(x) on float[1] at opset 13, encoded here so the probe
 * reads no file: creating a session on it loads the CUDA provider and nothing else of consequence.
 */
export function identityModel(): Uint8Array {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
    out.push(n);
    return out;
  };
  // Protocol-buffer fields: a varint (wire type 0) or length-delimited bytes (wire type 2).
  const int = (field: number, value: number) => [field << 3, ...varint(value)];
  const bytes = (field: number, value: number[]) => [(field << 3) | 2, ...varint(value.length), ...value];
  const text = (field: number, value: string) => bytes(field, [...Buffer.from(value, "utf8")]);

  const FLOAT = 1;
  // TypeProto.tensor_type { elem_type, shape { dim { dim_value: 1 } } }
  const floatVector = bytes(1, [...int(1, FLOAT), ...bytes(2, bytes(1, int(1, 1)))]);
  const valueInfo = (name: string) => [...text(1, name), ...bytes(2, floatVector)];
  const node = [...text(1, "x"), ...text(2, "y"), ...text(4, "Identity")];
  const graph = [...bytes(1, node), ...text(2, "cuda_probe"), ...bytes(11, valueInfo("x")), ...bytes(12, valueInfo("y"))];
  // ModelProto { ir_version: 8, graph, opset_import { version: 13 } }
  return Uint8Array.from([...int(1, 8), ...bytes(7, graph), ...bytes(8, int(2, 13))]);
}
