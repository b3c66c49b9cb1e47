import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ModelBundleManifest, type BundleFile } from "./manifest.js";

/** A bundle that must not be served; the message names the bad file or field. */
export class BundleVerificationError extends Error {
  override readonly name = "BundleVerificationError";
  constructor(
    message: string,
    readonly bundleDir: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

export interface VerifyOptions {
  /** Skip hashing (sizes are still checked); for quick start-up checks only. */
  skipHashes?: boolean;
}

/**
 * Reads `<bundleDir>/manifest.json`, validates it, and checks the size and
 * sha256 of every file it lists. Resolves to the parsed manifest.
 *
 * @example
 * const manifest = await verifyBundle("bundles/tiny");
 * console.log(manifest.graphs.denoiser.file);
 */
export async function verifyBundle(bundleDir: string, options: VerifyOptions = {}): Promise<ModelBundleManifest> {
  const manifest = await readManifest(bundleDir);
  for (const file of manifest.files) {
    await verifyFile(bundleDir, file, options);
  }
  return manifest;
}

async function readManifest(bundleDir: string): Promise<ModelBundleManifest> {
  const path = join(bundleDir, "manifest.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new BundleVerificationError(`cannot read ${path}: ${(cause as Error).message}`, bundleDir, "manifest.json");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new BundleVerificationError(`${path} is not JSON: ${(cause as Error).message}`, bundleDir, "manifest.json");
  }
  const parsed = ModelBundleManifest.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new BundleVerificationError(`${path} does not match the manifest schema: ${issues}`, bundleDir, "manifest.json");
  }
  return parsed.data;
}

async function verifyFile(bundleDir: string, file: BundleFile, options: VerifyOptions): Promise<void> {
  const path = join(bundleDir, file.path);
  const fail = (why: string) => new BundleVerificationError(`bundle file ${file.path}: ${why}`, bundleDir, file.path);
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw fail("is not a regular file");
    size = info.size;
  } catch (cause) {
    if (cause instanceof BundleVerificationError) throw cause;
    throw fail("is missing");
  }
  if (size !== file.bytes) throw fail(`has ${size} bytes, the manifest says ${file.bytes}`);
  if (options.skipHashes) return;
  const digest = await sha256File(path);
  if (digest !== file.sha256) throw fail(`sha256 is ${digest}, the manifest says ${file.sha256}`);
}

/** Streams the file so multi-GB graphs never sit in memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
