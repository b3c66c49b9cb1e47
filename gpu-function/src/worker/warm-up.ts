import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { EcomidPipeline } from "../pipelines/ecomid.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { encodeImage } from "../runtime/image.js";

/**
 * One small job through every graph, so the first customer job does not pay for
 * session initialisation (cuDNN's algorithm search on GPUs), on a bundled face photo.
 */
export async function warmUp(pipeline: EcomidPipeline, bundle: ModelBundle): Promise<void> {
  const face = readFileSync(fileURLToPath(new URL("../../assets/warm-up-face.jpg", import.meta.url)));
  const size = bundle.manifest.limits.min_side;
  await pipeline.run({
    spec: {
      prompt: "a portrait",
      negative_prompt: "",
      reference_images: [{ url: "warm-up", content_type: "image/jpeg", sha256: "", bytes: face.byteLength }],
      keypoints: { type: "reference" },
      identity_strength: 0.3,
      structure_strength: 0.8,
      id_mode: "fidelity",
      id_noise: 0,
      steps: 1,
      guidance: 3.5,
      sampler: "euler",
      seed: 0,
      width: size,
      height: size,
      num_outputs: 1,
      output_format: "webp",
      output_quality: 50,
    },
    references: [new Uint8Array(face)],
    keypointImage: null,
    intermediates: [],
  });
  await encodeImage({ width: 8, height: 8, data: new Uint8Array(192) }, "png");
}
