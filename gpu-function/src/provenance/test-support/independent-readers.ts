import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The readers the provenance tests trust, none of them the code that wrote the file: c2pa-python (the Content
 * Authenticity Initiative's reader, in c2pa-reader/.venv made by c2pa-reader/setup.sh) and exiftool (Debian's
 * libimage-exiftool-perl). A missing reader throws: the tests fail rather than skip.
 */
const READER_DIR = join(dirname(fileURLToPath(import.meta.url)), "c2pa-reader");
const READER_PYTHON = join(READER_DIR, ".venv", "bin", "python");

/** manifest_store is null when the file holds no C2PA manifest. */
export interface C2paReading {
  /** "Invalid", "Valid" or "Trusted" (c2pa-rs ValidationState). */
  validation_state?: string;
  validation_results?: {
    activeManifest?: { success: { code: string }[]; failure: { code: string }[]; informational: { code: string }[] };
  };
  active_manifest?: { assertions: { label: string; data: unknown }[]; claim_generator_info?: unknown[] } | null;
  manifest_store: { manifests: Record<string, { ingredients?: unknown[] }> } | null;
}

function withTempFile<T>(bytes: Uint8Array, extension: string, read: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "ecomid-provenance-"));
  try {
    const path = join(dir, `image.${extension}`);
    writeFileSync(path, bytes);
    return read(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function readC2pa(bytes: Uint8Array, mimeType: string, trustAnchorsPem?: string): C2paReading {
  if (!existsSync(READER_PYTHON)) {
    throw new Error(`the C2PA reader is not installed: run bash ${join(READER_DIR, "setup.sh")}`);
  }
  return withTempFile(bytes, "img", (path) => {
    const args = [join(READER_DIR, "read_manifest.py"), path, mimeType];
    if (trustAnchorsPem !== undefined) {
      const anchors = join(dirname(path), "anchors.pem");
      writeFileSync(anchors, trustAnchorsPem);
      args.push(anchors);
    }
    return JSON.parse(execFileSync(READER_PYTHON, args, { encoding: "utf8" })) as C2paReading;
  });
}

/** Every XMP property exiftool finds, keyed "XMP-<namespace group>:<Tag>" (exiftool -G1). */
export function readXmpWithExiftool(bytes: Uint8Array, extension: string): Record<string, unknown> {
  return withTempFile(bytes, extension, (path) => {
    const [tags] = JSON.parse(execFileSync("exiftool", ["-j", "-G1", "-XMP:all", path], { encoding: "utf8" })) as [Record<string, unknown>];
    return tags;
  });
}
