import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EcomidPipeline } from "../pipelines/ecomid.js";
import { NO_CONTROL_IMAGES } from "../pipelines/control-inputs.js";
import { localJobSpec } from "../pipelines/local-job.js";
import type { ModelBundle } from "../runtime/bundle.js";
import { encodeImage } from "../runtime/image.js";
import { layout } from "../runtime/layout.js";

/**
 * One small job through every graph, so the first customer job does not pay for
 * session initialisation (cuDNN's algorithm search on GPUs), on a bundled face photo.
 */
export async function warmUp(pipeline: EcomidPipeline, bundle: ModelBundle): Promise<void> {
  const face = readFileSync(join(layout.assetsDir, "warm-up-face.jpg"));
  const size = bundle.manifest.limits.min_side;
  await pipeline.run({
    spec: localJobSpec(
      { bytes: face.byteLength, contentType: "image/jpeg" },
      {
        width: size,
        height: size,
        output_format: "webp",
        output_quality: 50,
        // Labelled as a customer job would be, so the first one does not pay for the first signature either.
        provenance: { embed: pipeline.signs ? "c2pa+iptc" : "iptc", include_prompt: false },
      },
    ),
    references: [new Uint8Array(face)],
    keypointImage: null,
    controlImages: NO_CONTROL_IMAGES,
    intermediates: [],
  });
  await encodeImage({ width: 8, height: 8, data: new Uint8Array(192) }, "png");
}
