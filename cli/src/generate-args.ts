import type { ParseArgsConfig } from "node:util";
import { EdgeDetector, Intermediate, ProvenanceEmbed } from "@ecomid/shared/api";
import type { CreateJobParams } from "@ecomid/shared/sdk";
import { UsageError } from "./exit-codes.js";

type Input = CreateJobParams["input"];
type ImageRef = Input["reference_images"][number];

export const generateOptions = {
  image: { type: "string", multiple: true, short: "i" },
  prompt: { type: "string", short: "p" },
  "negative-prompt": { type: "string" },
  "pose-image": { type: "string" },
  keypoints: { type: "string" },
  "keypoint-image": { type: "string" },
  "face-index": { type: "string" },
  "identity-strength": { type: "string" },
  "structure-strength": { type: "string" },
  "id-mode": { type: "string" },
  "id-noise": { type: "string" },
  steps: { type: "string" },
  guidance: { type: "string" },
  sampler: { type: "string" },
  seed: { type: "string" },
  width: { type: "string" },
  height: { type: "string" },
  outputs: { type: "string" },
  format: { type: "string" },
  quality: { type: "string" },
  intermediates: { type: "string" },
  "inpaint-image": { type: "string" },
  mask: { type: "string" },
  "mask-from-alpha": { type: "boolean" },
  grow: { type: "string" },
  feather: { type: "string" },
  "inpaint-strength": { type: "string" },
  "keep-unmasked": { type: "boolean" },
  "no-keep-unmasked": { type: "boolean" },
  "softedge-image": { type: "string" },
  "edge-map": { type: "string" },
  "softedge-detector": { type: "string" },
  "softedge-strength": { type: "string" },
  provenance: { type: "string" },
  "include-prompt": { type: "boolean" },
  model: { type: "string" },
  webhook: { type: "string" },
  "webhook-events": { type: "string" },
  metadata: { type: "string", multiple: true },
  deadline: { type: "string" },
  retention: { type: "string" },
  "idempotency-key": { type: "string" },
  out: { type: "string", short: "o" },
  "no-wait": { type: "boolean" },
  timeout: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

type Values = {
  [K in keyof typeof generateOptions]?: (typeof generateOptions)[K] extends { multiple: true }
    ? string[]
    : (typeof generateOptions)[K]["type"] extends "boolean"
      ? boolean
      : string;
};

export interface GeneratePlan {
  request: CreateJobParams;
  /** multipart part name -> local path */
  files: Record<string, string>;
  out: string;
  wait: boolean;
  timeoutMs: number | undefined;
  idempotencyKey: string | undefined;
  /** true when --model was given; otherwise the CLI picks one the server offers */
  modelGiven: boolean;
}

/** Turns generate's options into the job request; pure, so every rule is unit-tested. */
export function planGenerate(values: Values): GeneratePlan {
  if (!values.image?.length) throw new UsageError("generate needs --image <face photo>");
  if (!values.prompt?.trim()) throw new UsageError('generate needs --prompt "..."');
  const files: Record<string, string> = {};
  const ref = (value: string, part: string): ImageRef => {
    if (/^upl_/.test(value)) return { upload_id: value };
    if (/^https?:\/\//.test(value)) return { url: value };
    files[part] = value;
    return { file: part };
  };
  const input: Input = {
    reference_images: values.image.map((v, i) => ref(v, `image${i}`)),
    prompt: values.prompt,
  };
  const hints = [values["pose-image"], values.keypoints, values["keypoint-image"]].filter((v) => v !== undefined);
  if (hints.length > 1) throw new UsageError("use only one of --pose-image, --keypoints and --keypoint-image");
  if (values["pose-image"] !== undefined) input.keypoints = { type: "pose_image", image: ref(values["pose-image"], "pose") };
  if (values["keypoint-image"] !== undefined)
    input.keypoints = { type: "keypoint_image", image: ref(values["keypoint-image"], "keypoint_image") };
  if (values.keypoints !== undefined) input.keypoints = { type: "points", points: parseKeypoints(values.keypoints) };

  const set = <K extends keyof Input>(key: K, value: Input[K] | undefined) => {
    if (value !== undefined) input[key] = value;
  };
  set("negative_prompt", values["negative-prompt"]);
  set("face_index", int("face-index", values["face-index"]));
  set("identity_strength", num("identity-strength", values["identity-strength"]));
  set("structure_strength", num("structure-strength", values["structure-strength"]));
  set("id_mode", oneOf("id-mode", values["id-mode"], ["fidelity", "style", "neutral"] as const));
  set("id_noise", num("id-noise", values["id-noise"]));
  set("steps", int("steps", values.steps));
  set("guidance", num("guidance", values.guidance));
  set(
    "sampler",
    oneOf("sampler", values.sampler, ["euler", "euler_ancestral", "dpmpp_2m_karras", "dpm_2_karras", "dpm_solver_trailing"] as const),
  );
  set("seed", int("seed", values.seed));
  set("width", int("width", values.width));
  set("height", int("height", values.height));
  set("num_outputs", int("outputs", values.outputs));
  set("output_format", oneOf("format", values.format, ["webp", "png", "jpeg"] as const));
  set("output_quality", int("quality", values.quality));
  if (values.intermediates !== undefined) {
    input.return_intermediates = list(values.intermediates).map((v) => oneOf("intermediates", v, Intermediate.options)!);
  }
  const inpaint = inpaintOf(values, ref);
  if (inpaint) input.inpaint = inpaint;
  const softedge = softedgeOf(values, ref);
  if (softedge) input.softedge = softedge;
  const provenance = provenanceOf(values);
  if (provenance) input.provenance = provenance;

  const request: CreateJobParams = { input };
  if (values.model !== undefined) request.model = values.model;
  if (values.webhook !== undefined) {
    request.webhook = { url: values.webhook };
    if (values["webhook-events"] !== undefined)
      request.webhook.events = list(values["webhook-events"]) as NonNullable<CreateJobParams["webhook"]>["events"];
  }
  if (values.metadata?.length) request.metadata = Object.fromEntries(values.metadata.map(parsePair));
  const deadline = int("deadline", values.deadline);
  if (deadline !== undefined) request.deadline_seconds = deadline;
  const retention = int("retention", values.retention);
  if (retention !== undefined) request.retention_seconds = retention;
  const timeout = num("timeout", values.timeout);
  return {
    request,
    files,
    out: values.out ?? "ecomid-output",
    wait: !values["no-wait"],
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    idempotencyKey: values["idempotency-key"],
    modelGiven: values.model !== undefined,
  };
}

type RefOf = (value: string, part: string) => ImageRef;

/** --inpaint-image and its mask options; the mask options alone are a usage error, as is a missing mask. */
function inpaintOf(values: Values, ref: RefOf): Input["inpaint"] {
  const image = values["inpaint-image"];
  const maskOptions = (
    ["mask", "mask-from-alpha", "grow", "feather", "inpaint-strength", "keep-unmasked", "no-keep-unmasked"] as const
  ).filter((o) => values[o] !== undefined);
  if (image === undefined) {
    if (maskOptions.length) throw new UsageError(`--${maskOptions[0]} needs --inpaint-image <product photo>`);
    return undefined;
  }
  const fromAlpha = values["mask-from-alpha"] === true;
  if ((values.mask === undefined) === !fromAlpha)
    throw new UsageError("--inpaint-image needs exactly one of --mask <white = generate> and --mask-from-alpha");
  if (values["keep-unmasked"] && values["no-keep-unmasked"]) throw new UsageError("use only one of --keep-unmasked and --no-keep-unmasked");
  const inpaint: NonNullable<Input["inpaint"]> = { image: ref(image, "inpaint_image") };
  if (values.mask !== undefined) inpaint.mask = ref(values.mask, "mask");
  if (fromAlpha) inpaint.mask_from = "alpha";
  const grow = int("grow", values.grow);
  if (grow !== undefined) inpaint.grow = grow;
  const feather = int("feather", values.feather);
  if (feather !== undefined) inpaint.feather = feather;
  const strength = num("inpaint-strength", values["inpaint-strength"]);
  if (strength !== undefined) inpaint.strength = strength;
  if (values["keep-unmasked"] || values["no-keep-unmasked"]) inpaint.keep_unmasked = values["keep-unmasked"] === true;
  return inpaint;
}

/** --softedge-image (edges detected on the server) or --edge-map (used as is), with their options. */
function softedgeOf(values: Values, ref: RefOf): Input["softedge"] {
  const photo = values["softedge-image"];
  const edgeMap = values["edge-map"];
  if (photo !== undefined && edgeMap !== undefined) throw new UsageError("use only one of --softedge-image and --edge-map");
  const detector = oneOf("softedge-detector", values["softedge-detector"], EdgeDetector.options);
  if (detector !== undefined && photo === undefined)
    throw new UsageError("--softedge-detector needs --softedge-image (an edge map is used as is)");
  const strength = num("softedge-strength", values["softedge-strength"]);
  const softedge: Input["softedge"] =
    photo !== undefined
      ? { image: ref(photo, "softedge_image") }
      : edgeMap !== undefined
        ? { edge_map: ref(edgeMap, "edge_map") }
        : undefined;
  if (!softedge) {
    if (strength !== undefined) throw new UsageError("--softedge-strength needs --softedge-image or --edge-map");
    return undefined;
  }
  if (detector !== undefined) softedge.detector = detector;
  if (strength !== undefined) softedge.strength = strength;
  return softedge;
}

/** --provenance and --include-prompt; either alone leaves the other to the API's default (c2pa+iptc, no prompt). */
function provenanceOf(values: Values): Input["provenance"] {
  const embed = oneOf("provenance", values.provenance, ProvenanceEmbed.options);
  const includePrompt = values["include-prompt"] === true;
  if (embed === undefined && !includePrompt) return undefined;
  return { ...(embed !== undefined ? { embed } : {}), ...(includePrompt ? { include_prompt: true } : {}) };
}

/** "x,y;x,y;..." in output pixels: left eye, right eye, nose, left and right mouth corners. */
export function parseKeypoints(text: string): [number, number][] {
  const points = text
    .split(";")
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const parts = pair.split(",").map((s) => Number(s.trim()));
      if (parts.length !== 2 || parts.some((n) => !Number.isFinite(n))) throw new UsageError(`--keypoints: "${pair}" is not x,y`);
      return [parts[0]!, parts[1]!] as [number, number];
    });
  if (points.length !== 5)
    throw new UsageError(`--keypoints needs 5 points (eyes, nose, mouth corners) as x,y;x,y;..., got ${points.length}`);
  return points;
}

function num(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${value}"`);
  return n;
}

function int(name: string, value: string | undefined): number | undefined {
  const n = num(name, value);
  if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got "${value}"`);
  return n;
}

function oneOf<const T extends readonly string[]>(name: string, value: string | undefined, allowed: T): T[number] | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(", ")}; got "${value}"`);
  return value as T[number];
}

const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

function parsePair(text: string): [string, string] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`--metadata takes key=value, got "${text}"`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}
