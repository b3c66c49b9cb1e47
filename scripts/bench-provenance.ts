/**
 * `npm run bench:provenance`: what labelling an output costs (issue 15 point 5). For a 1024x1024 output in each
 * format: milliseconds to embed XMP only ("iptc") and XMP plus a signed C2PA manifest ("c2pa+iptc", ES256 and
 * PS256), and the bytes each adds. The certificates are throwaway ones made with openssl, as in the tests.
 * Beside each, the time to encode that output, measured in the same run: the cost every job already pays.
 *   BENCH_RUNS (default 20) timed runs after one warm-up, medians reported; the first call's time, which loads the
 *   WebAssembly module, is printed separately.
 */
import os from "node:os";
import { encodeImage, type ImageFormat, type RgbImage } from "../gpu-function/src/runtime/image.js";
import { makeDevelopmentCertificate } from "../gpu-function/src/provenance/development-certificate.js";
import {
  DIGITAL_SOURCE_TYPE,
  embedProvenance,
  loadSigner,
  type ProvenanceOptions,
  type ProvenanceSigner,
} from "../gpu-function/src/provenance/index.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const SIZE = 1024;
const FORMATS: readonly ImageFormat[] = ["png", "jpeg", "webp"];

/** Smooth gradients with a little deterministic noise: compresses like a photo, not like flat colour or pure noise. */
function portraitLikeImage(): RgbImage {
  const data = new Uint8Array(SIZE * SIZE * 3);
  let seed = 12345;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const noise = (seed >>> 28) - 8;
      const index = (y * SIZE + x) * 3;
      data[index] = Math.max(0, Math.min(255, 128 + 100 * Math.sin(x / 90) + noise));
      data[index + 1] = Math.max(0, Math.min(255, 128 + 90 * Math.cos(y / 70) + noise));
      data[index + 2] = Math.max(0, Math.min(255, ((x + y) >> 3) + noise));
    }
  }
  return { width: SIZE, height: SIZE, data };
}

async function medianMs(run: () => Promise<unknown>): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

function options(c2pa: ProvenanceSigner | null): ProvenanceOptions {
  return {
    digitalSourceType: DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia,
    softwareAgent: { name: "EcomID API", version: "0.1.0" },
    bundleId: "ecomid-sdxl@2026-12-01",
    jobId: "job_01JBENCHPROVENANCE0000000",
    action: "c2pa.created",
    c2pa,
  };
}

const es256 = loadSigner(makeDevelopmentCertificate("es256"));
const ps256 = loadSigner(makeDevelopmentCertificate("ps256"));
const image = portraitLikeImage();
console.log(`provenance cost at ${SIZE}x${SIZE}; ${os.cpus()[0]?.model ?? "cpu"}; node ${process.version}; median of ${RUNS}`);

const firstCallInput = await encodeImage(image, "png");
// preloadC2pa() at worker startup takes this off the first job.
const firstCallStart = performance.now();
await embedProvenance(firstCallInput, "png", options(es256));
console.log(`first c2pa+iptc call (loads the WebAssembly module): ${(performance.now() - firstCallStart).toFixed(1)} ms`);

// The reference each labelling cost is read against: encoding the same output, which every job already pays.
const rows: string[][] = [["format", "output bytes", "encode ms (reference)", "mode", "ms per output", "bytes added"]];
for (const format of FORMATS) {
  const input = await encodeImage(image, format);
  const encodeMs = (await medianMs(() => encodeImage(image, format))).toFixed(2);
  for (const [mode, signer] of [
    ["iptc", null],
    ["c2pa+iptc ES256", es256],
    ["c2pa+iptc PS256", ps256],
  ] as const) {
    const labelled = await embedProvenance(input, format, options(signer));
    const ms = await medianMs(() => embedProvenance(input, format, options(signer)));
    rows.push([format, String(input.length), encodeMs, mode, ms.toFixed(2), String(labelled.length - input.length)]);
  }
}
const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
for (const row of rows) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  "));
