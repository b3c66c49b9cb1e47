import { createHash } from "node:crypto";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ModelBundleManifest } from "./manifest.js";
import { BundleVerificationError, verifyBundle } from "./verify-bundle.js";

const GRAPH_NAMES = [
  "scrfd",
  "arcface",
  "id_prep",
  "id_encoder",
  "resampler",
  "clip_l",
  "clip_g",
  "denoiser",
  "denoiser_no_control",
  "vae_decoder",
] as const;

const point = (x: number, y: number): [number, number] => [x, y];
const five = () => [point(1, 1), point(2, 1), point(1.5, 2), point(1, 3), point(2, 3)];

function fileEntry(dir: string, path: string, content: string) {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), content);
  return { path, sha256: createHash("sha256").update(content).digest("hex"), bytes: Buffer.byteLength(content) };
}

/** A small but complete bundle whose "graphs" are text files. */
function writeBundle(dir: string) {
  const files = [
    ...GRAPH_NAMES.map((g) => fileEntry(dir, `graphs/${g}.onnx`, `graph ${g}`)),
    fileEntry(dir, "tokenizer/tokenizer.json", "{}"),
    fileEntry(dir, "tokenizer/tokenizer_config.json", "{}"),
    fileEntry(dir, "constants/uncond_id_tokens.f32", "\0\0\0\0"),
    fileEntry(dir, "constants/uncond_resampler_tokens.f32", "\0\0\0\0"),
  ];
  const tensor = { name: "x", shape: ["batch", 4], dtype: "float32" };
  const graphs = Object.fromEntries(
    GRAPH_NAMES.map((g) => [
      g,
      {
        file: `graphs/${g}.onnx`,
        external_data: [],
        inputs: [tensor],
        outputs: [tensor],
        precision: "float32",
        opset: 17,
        sources: ["test"],
      },
    ]),
  );
  const rgb = [1, 2, 3];
  const manifest = {
    format_version: 1,
    id: "test-bundle",
    version: "0.0.1",
    description: "unit-test bundle",
    fixture: true,
    created_by: "verify-bundle.test.ts",
    graphs,
    model: {
      latent_channels: 4,
      vae_scale_factor: 8,
      cross_attention_dim: 40,
      text_embeds_dim: 24,
      id_tokens: 10,
      id_padding_tokens: { fidelity: 8, style: 16, neutral: 0 },
      resampler_tokens: 16,
      arcface_dim: 512,
      id_attention_layers: 4,
    },
    preprocessing: {
      scrfd: {
        det_sizes: [640],
        input_mean: 127.5,
        input_std: 128,
        score_threshold: 0.5,
        nms_threshold: 0.4,
        strides: [8, 16, 32],
        anchors_per_cell: 2,
      },
      arcface: { size: 112, template: five(), input_mean: 127.5, input_std: 127.5 },
      ffhq: { size: 512, template: five(), border_bgr: rgb },
      id_prep: { input_size: 512, output_size: 336, parsing_mean: rgb, parsing_std: rgb, clip_mean: rgb, clip_std: rgb, white_labels: [0] },
      keypoints: { colors: [rgb, rgb, rgb, rgb, rgb], circle_radius: 10, stick_width: 4, stick_dim: 0.6 },
      vae: { scaling_factor: 0.13025 },
      id_noise_scale: { id_encoder: 1, resampler: 0.35 },
    },
    defaults: {
      steps: 4,
      guidance: 3.5,
      sampler: "dpm_2_karras",
      identity_weight: 0.3,
      structure_strength: 0.8,
      id_mode: "fidelity",
      width: 64,
      height: 64,
    },
    limits: { min_side: 64, max_side: 128, max_pixels: 16384, side_multiple: 8, max_steps: 10, samplers: ["euler", "dpm_2_karras"] },
    scheduler: {
      num_train_timesteps: 1000,
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: "scaled_linear",
      steps_offset: 1,
      prediction_type: "epsilon",
      timestep_spacing: "leading",
    },
    tokenizer: {
      file: "tokenizer/tokenizer.json",
      config_file: "tokenizer/tokenizer_config.json",
      max_length: 77,
      bos_token_id: 49406,
      eos_token_id: 49407,
      pad_token_id: { clip_l: 49407, clip_g: 0 },
    },
    constants: {
      uncond_id_tokens: { file: "constants/uncond_id_tokens.f32", dtype: "float32", shape: [1], byte_order: "little" },
      uncond_resampler_tokens: { file: "constants/uncond_resampler_tokens.f32", dtype: "float32", shape: [1], byte_order: "little" },
    },
    licences: { test: { name: "test weights", origin: "this test", licence: "none", commercial_use: false } },
    files,
  };
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest));
  return manifest;
}

const dirs: string[] = [];
function tempBundle() {
  const dir = mkdtempSync(join(tmpdir(), "bundle-"));
  dirs.push(dir);
  return { dir, manifest: writeBundle(dir) };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function rejection(dir: string): Promise<BundleVerificationError> {
  const err = await verifyBundle(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleVerificationError);
  return err as BundleVerificationError;
}

describe("verifyBundle", () => {
  it("accepts a bundle whose files match the manifest", async () => {
    const { dir } = tempBundle();
    const manifest = await verifyBundle(dir);
    expect(manifest.graphs.denoiser.file).toBe("graphs/denoiser.onnx");
  });

  it("names a file whose content changed", async () => {
    const { dir } = tempBundle();
    writeFileSync(join(dir, "graphs/resampler.onnx"), "graph RESAMPLER"); // same length, other bytes
    const err = await rejection(dir);
    expect(err.file).toBe("graphs/resampler.onnx");
    expect(err.message).toMatch(/graphs\/resampler\.onnx: sha256 is [0-9a-f]{64}, the manifest says/);
  });

  it("names a file whose size differs", async () => {
    const { dir } = tempBundle();
    writeFileSync(join(dir, "tokenizer/tokenizer.json"), "{ }");
    expect((await rejection(dir)).message).toContain("tokenizer/tokenizer.json: has 3 bytes, the manifest says 2");
  });

  it("names a missing file", async () => {
    const { dir } = tempBundle();
    rmSync(join(dir, "constants/uncond_id_tokens.f32"));
    expect((await rejection(dir)).message).toContain("constants/uncond_id_tokens.f32: is missing");
  });

  it("refuses a manifest that fails the schema, naming the field", async () => {
    const { dir, manifest } = tempBundle();
    writeFileSync(
      join(dir, "manifest.json"),
      JSON.stringify({ ...manifest, scheduler: { ...manifest.scheduler, beta_schedule: "cosine" } }),
    );
    expect((await rejection(dir)).message).toMatch(/scheduler\.beta_schedule/);
  });

  it("refuses a graph whose file is not listed in files", async () => {
    const { manifest } = tempBundle();
    const files = manifest.files.filter((f) => f.path !== "graphs/vae_decoder.onnx");
    const result = ModelBundleManifest.safeParse({ ...manifest, files });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe("graphs/vae_decoder.onnx is not in files");
  });

  it("refuses paths that leave the bundle folder", () => {
    const { manifest } = tempBundle();
    const files = [...manifest.files, { path: "../etc/passwd", sha256: "0".repeat(64), bytes: 1 }];
    expect(ModelBundleManifest.safeParse({ ...manifest, files }).success).toBe(false);
  });

  it("refuses defaults outside the bundle's limits", () => {
    const { manifest } = tempBundle();
    const result = ModelBundleManifest.safeParse({ ...manifest, defaults: { ...manifest.defaults, width: 4096 } });
    expect(result.error?.issues.map((i) => i.message)).toContain("default width outside limits");
  });

  const tiny = join(import.meta.dirname, "../../../bundles/tiny");
  it.runIf(existsSync(join(tiny, "manifest.json")))("accepts the committed tiny bundle", async () => {
    const manifest = await verifyBundle(tiny);
    expect(manifest.fixture).toBe(true);
  });
});
