import type { RgbImage } from "../runtime/image.js";
import type { Graph } from "../runtime/onnx.js";
import { float32 } from "../runtime/tensor.js";
import { annotatorSize, resizeForAnnotator } from "../preprocess/annotator-resize.js";
import { edgeLevels } from "../preprocess/edge-levels.js";
import type { GrayImage } from "../preprocess/gray-image.js";
import { resizeGrayLinear } from "../preprocess/output-resize.js";

export type RunnableGraph = Pick<Graph, "run">;

/** The soft-edge detectors a bundle may carry (manifest `edge_detectors`); the job's default is pidinet. */
export const EDGE_DETECTORS = ["pidinet", "hed"] as const;
export type EdgeDetectorName = (typeof EDGE_DETECTORS)[number];

export interface EdgeDetectionOptions {
  /** The side the shorter side is scaled to before the network (then rounded to multiples of 64). */
  detectResolution: number;
  /** The same for the returned map, applied to the detect-sized image. */
  imageResolution: number;
  /** util.py safe_step: quantise the map to 0, 127 and 255. */
  safe: boolean;
}

/**
 * controlnet_aux's own defaults (PidiNetDetector / HEDdetector __call__: detect_resolution=512,
 * image_resolution=512, safe=False), which the EcomXL Softedge card keeps: it calls `edge_processor(image,
 * safe=False)` (https://huggingface.co/alimama-creative/EcomXL_controlnet_softedge, "Usage with Diffusers").
 */
export const CARD_EDGE_OPTIONS: EdgeDetectionOptions = { detectResolution: 512, imageResolution: 512, safe: false };

export class EdgeDetectorError extends Error {
  override readonly name = "EdgeDetectorError";
}

/**
 * The `pidinet` or `hed` graph on an RGB image: input `image` float32 [1,3,H,W], pixels / 255 (float64 division
 * then float32: the correctly rounded quotient numpy's float32 division gives for every byte), output `edge`
 * float32 [1,1,H,W] in [0,1]. Returns the edge plane, row-major.
 */
export async function runEdgeGraph(graph: RunnableGraph, image: RgbImage): Promise<Float32Array> {
  const { width, height, data } = image;
  const plane = width * height;
  const pixels = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) pixels[c * plane + i] = (data[3 * i + c] ?? 0) / 255;
  const { edge } = await graph.run({ image: float32(pixels, [1, 3, height, width]) });
  if (!edge || edge.data.length !== plane || edge.dims.join() !== `1,1,${height},${width}`)
    throw new EdgeDetectorError(`the edge graph returned ${edge ? `edge [${edge.dims}]` : "no edge"} for a ${width}x${height} image`);
  return edge.data;
}

/**
 * controlnet_aux 0.0.10's PidiNetDetector / HEDdetector __call__ (without scribble and apply_filter, which the
 * card does not use), the network being `graph`; infra/export/README.md "Soft-edge detectors" lists the steps and
 * annotators/reference.py is the Python reference this is held to:
 * 1. HWC3: an RgbImage already has three channels. decodeImage drops alpha, as the card's diffusers load_image
 *    does (convert("RGB"), diffusers utils/loading_utils.py), so HWC3's composite over white is never reached;
 * 2. resize to detectResolution (annotatorSize: numpy's rounding, LANCZOS4 or AREA);
 * 3. the graph on pixels / 255;
 * 4. safe_step when `safe`; 5. to bytes in float32 (edgeLevels);
 * 6. resize with cv2.INTER_LINEAR to the size resize_image gives the *detect-sized* image at imageResolution.
 * The map is gray (controlnet_aux replicates it to three equal channels; grayToRgb does that where needed).
 */
export async function detectEdges(
  graph: RunnableGraph,
  photo: RgbImage,
  options: EdgeDetectionOptions = CARD_EDGE_OPTIONS,
): Promise<GrayImage> {
  const sized = resizeForAnnotator(photo, options.detectResolution);
  const edge = await runEdgeGraph(graph, sized);
  const detected: GrayImage = { width: sized.width, height: sized.height, data: edgeLevels(edge, options.safe) };
  const out = annotatorSize(sized.width, sized.height, options.imageResolution);
  return resizeGrayLinear(detected, out.width, out.height);
}
