import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { initSync, WasmBuilder } from "@contentauth/c2pa-wasm";

/**
 * Node glue for @contentauth/c2pa-wasm, the Content Authenticity Initiative's WebAssembly build of c2pa-rs made for
 * browsers. Its signing path reads the source asset through a Blob and the browser's FileReaderSync (contentauth/c2pa-js,
 * packages/c2pa-wasm/src/stream/blob_stream.rs); Node has Blob but no synchronous way to read one, so the assets
 * handed to it are a Blob subclass that keeps its bytes, and FileReaderSync is provided for exactly that class.
 */
class BytesBlob extends Blob {
  // Not named `bytes`: Blob.bytes() is a method.
  constructor(readonly heldBytes: Uint8Array) {
    super([heldBytes as Uint8Array<ArrayBuffer>]);
  }

  // blob_stream.rs reads a window of the asset with slice() and then FileReaderSync.readAsArrayBuffer().
  override slice(start?: number, end?: number): BytesBlob {
    return new BytesBlob(this.heldBytes.subarray(start, end));
  }
}

class BytesBlobReaderSync {
  readAsArrayBuffer(blob: Blob): ArrayBuffer {
    if (!(blob instanceof BytesBlob)) throw new TypeError("this FileReaderSync reads only the provenance module's own blobs");
    return blob.heldBytes.slice().buffer;
  }
}

let initialised = false;

/**
 * Compiles and instantiates the WebAssembly module (a few hundred ms, once per process). Called by the first
 * signing; a worker can call it at startup so that no job pays for it.
 */
export function ensureInitialised(): void {
  if (initialised) return;
  const globals = globalThis as { FileReaderSync?: unknown };
  globals.FileReaderSync ??= BytesBlobReaderSync;
  const wasmPath = createRequire(import.meta.url).resolve("@contentauth/c2pa-wasm/c2pa.wasm");
  initSync({ module: readFileSync(wasmPath) });
  initialised = true;
}

export interface WasmSignerDefinition {
  alg: string;
  reserveSize: number;
  sign: (claim: Uint8Array) => Promise<Uint8Array>;
}

/** No thumbnail: it would copy (a small version of) the portrait into the manifest for no reader's benefit. */
const BUILDER_CONTEXT = JSON.stringify({ builder: { thumbnail: { enabled: false } } });

/** Signs `asset` with the manifest definition (c2pa-rs ManifestDefinition JSON) and returns the asset with the manifest embedded. */
export async function signWithC2pa(
  manifestDefinition: object,
  signer: WasmSignerDefinition,
  mimeType: string,
  asset: Uint8Array,
): Promise<Uint8Array> {
  ensureInitialised();
  const builder = WasmBuilder.fromJson(JSON.stringify(manifestDefinition), BUILDER_CONTEXT);
  try {
    const definition = signer as unknown as Parameters<WasmBuilder["sign"]>[0];
    // No CAWG identity assertions: the operator, not a person, signs.
    return await builder.sign(definition, [], mimeType, new BytesBlob(asset));
  } finally {
    builder.free();
  }
}
