import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ModelBundle } from "../runtime/bundle.js";
import type { Tensor } from "../runtime/tensor.js";
import { FLOAT32_UNIT_ROUNDOFF } from "../../test/float-bounds.js";
import { openTinyBundle, referenceBound, referenceF32, referenceU8, relativeError, scaledError } from "../../test/reference.js";
import { IdentityEncoder, type IdentityReference } from "./identity-encoder.js";

let bundle: ModelBundle;
let identity: IdentityEncoder;
let uncondId: Float32Array;
let uncondFace: Float32Array;

const astronaut: IdentityReference = {
  ffhqCrop: referenceU8("ffhq_crop").data,
  arcfaceEmbedding: referenceF32("arcface_embedding").data,
};

/** A second, different face: the crop mirrored, the embedding reversed. */
const mirrored: IdentityReference = {
  ffhqCrop: mirror(astronaut.ffhqCrop, 512),
  arcfaceEmbedding: astronaut.arcfaceEmbedding.slice().reverse(),
};

const row = (t: Tensor<Float32Array>, r: number) => {
  const n = t.data.length / t.dims[0]!;
  return t.data.subarray(r * n, (r + 1) * n);
};

beforeAll(async () => {
  bundle = await openTinyBundle();
  identity = await IdentityEncoder.fromBundle(bundle);
  uncondId = (await bundle.constant("uncond_id_tokens")).data;
  uncondFace = (await bundle.constant("uncond_resampler_tokens")).data;
});

afterAll(() => bundle.release());

describe("IdentityEncoder on the tiny bundle", () => {
  it("matches the reference ID and Resampler tokens within their graphs' float32 bounds; uncond rows are the bundle constants as is", async () => {
    const { idTokens, faceTokens } = await identity.encode([astronaut]);
    expect(idTokens.dims).toEqual([2, 10, 24]);
    expect(faceTokens.dims).toEqual([2, 16, 24]);
    const errors = {
      idTokens: scaledError(row(idTokens, 0), referenceF32("id_tokens").data),
      resamplerTokens: scaledError(row(faceTokens, 0), referenceF32("resampler_tokens").data),
    };
    console.info("identity parity, error / max(1, |reference|)", errors);
    // From the reference's crop and embedding: the face parsing + resize, then EVA; the Resampler alone.
    expect(errors.idTokens).toBeLessThanOrEqual(referenceBound({ id_prep: 1, id_encoder: 1 }));
    expect(errors.resamplerTokens).toBeLessThanOrEqual(referenceBound({ resampler: 1 }));
    expect(row(idTokens, 1)).toEqual(uncondId);
    expect(row(faceTokens, 1)).toEqual(uncondFace);
  });

  it("gives two identical references exactly what one gives", async () => {
    const one = await identity.encode([astronaut]);
    const two = await identity.encode([astronaut, astronaut]);
    expect(two.idTokens).toEqual(one.idTokens);
    expect(two.faceTokens).toEqual(one.faceTokens);
  });

  it("averages ID tokens per image but runs the Resampler once on the averaged embedding", async () => {
    const [a, b, both] = [
      await identity.encode([astronaut]),
      await identity.encode([mirrored]),
      await identity.encode([astronaut, mirrored]),
    ];
    const meanId = row(a.idTokens, 0).map((v, i) => (v + row(b.idTokens, 0)[i]!) / 2);
    // The same two float32 rows averaged in float64 here and there, stored as float32: at most an ulp apart.
    expect(relativeError(row(both.idTokens, 0), meanId)).toBeLessThanOrEqual(2 * FLOAT32_UNIT_ROUNDOFF);
    expect(relativeError(row(a.idTokens, 0), row(b.idTokens, 0))).toBeGreaterThan(1e-3);

    const meanEmbedding = astronaut.arcfaceEmbedding.map((v, i) => (v + mirrored.arcfaceEmbedding[i]!) / 2);
    const resampler = await bundle.graph("resampler");
    const expected = (await resampler.run({ arcface_embedding: { data: meanEmbedding, dims: [1, 1, 512] } })).face_tokens!.data;
    // The same averaged embedding through the same session: equal, but for an ulp of the average.
    expect(scaledError(row(both.faceTokens, 0), expected)).toBeLessThanOrEqual(referenceBound({ resampler: 1 }));
    expect(row(both.idTokens, 1)).toEqual(uncondId);
  });

  it("with id noise, runs the graphs on seeded U(0,1) * noise for the uncond rows only, reproducibly", async () => {
    const plain = await identity.encode([astronaut]);
    const noisy = await identity.encode([astronaut], { idNoise: 0.35, seed: 7 });
    const again = await identity.encode([astronaut], { idNoise: 0.35, seed: 7 });
    const otherSeed = await identity.encode([astronaut], { idNoise: 0.35, seed: 8 });
    expect(again).toEqual(noisy);
    expect(row(noisy.idTokens, 0)).toEqual(row(plain.idTokens, 0));
    expect(row(noisy.faceTokens, 0)).toEqual(row(plain.faceTokens, 0));
    expect(relativeError(row(noisy.idTokens, 1), uncondId)).toBeGreaterThan(1e-3);
    expect(relativeError(row(noisy.faceTokens, 1), uncondFace)).toBeGreaterThan(1e-3);
    expect(relativeError(row(otherSeed.faceTokens, 1), row(noisy.faceTokens, 1))).toBeGreaterThan(1e-4);
    // Without a seed the noise follows the faces: same faces, same noise.
    expect(await identity.encode([astronaut], { idNoise: 0.35 })).toEqual(await identity.encode([astronaut], { idNoise: 0.35 }));
  });

  it("with vanishing noise, the uncond Resampler tokens approach the zero-input constant", async () => {
    const { faceTokens } = await identity.encode([astronaut], { idNoise: 1e-7, seed: 1 });
    // The constant was made by PyTorch: the Resampler's bound, plus what 1e-7 of input noise moves (far less).
    expect(scaledError(row(faceTokens, 1), uncondFace)).toBeLessThanOrEqual(referenceBound({ resampler: 1 }));
  });

  it("refuses inputs of the wrong size, no references and negative noise", async () => {
    await expect(identity.encode([])).rejects.toThrow(/at least one reference/);
    await expect(identity.encode([{ ...astronaut, ffhqCrop: new Uint8Array(112 * 112 * 3) }])).rejects.toThrow(
      /reference 0: ffhqCrop has 37632 bytes, expected 786432/,
    );
    await expect(identity.encode([astronaut, { ...astronaut, arcfaceEmbedding: new Float32Array(511) }])).rejects.toThrow(
      /reference 1: arcfaceEmbedding has 511 values/,
    );
    await expect(identity.encode([astronaut], { idNoise: -0.1 })).rejects.toThrow(RangeError);
  });
});

describe("IdentityEncoder with recording fake graphs", () => {
  const fakeGraph = (output: string, dims: number[], runs: string[], feeds: Record<string, Tensor>[] = []) => ({
    run: async (f: Record<string, Tensor>) => {
      runs.push(Object.keys(f).join("+"));
      feeds.push(f);
      return { [output]: { data: new Float32Array(dims.reduce((a, b) => a * b)).fill(runs.length), dims } };
    },
  });
  const constants = {
    idTokens: { data: new Float32Array(20).fill(-1), dims: [1, 10, 2] },
    faceTokens: { data: new Float32Array(32).fill(-2), dims: [1, 16, 2] },
  };
  const spec = { cropSize: 512, evaInputSize: 4, arcfaceDim: 512, noiseScale: { idEncoder: 1, resampler: 1 } };

  it("takes the uncond rows from the constants without running a graph for them when noise is 0", async () => {
    const runs: string[] = [];
    const graphs = {
      idPrep: fakeGraph("eva_input", [1, 3, 4, 4], runs),
      idEncoder: fakeGraph("id_tokens", [1, 10, 2], runs),
      resampler: fakeGraph("face_tokens", [1, 16, 2], runs),
    };
    const { idTokens, faceTokens } = await new IdentityEncoder(graphs, constants, spec).encode([astronaut, mirrored]);
    expect(runs).toEqual([
      "aligned_face",
      "eva_input+arcface_embedding",
      "aligned_face",
      "eva_input+arcface_embedding",
      "arcface_embedding",
    ]);
    expect(Array.from(row(idTokens, 0))).toEqual(new Array(20).fill(3)); // mean of run 2 and run 4
    expect(Array.from(row(idTokens, 1))).toEqual(new Array(20).fill(-1));
    expect(Array.from(row(faceTokens, 1))).toEqual(new Array(32).fill(-2));
  });

  // The tiny bundle's random BiSeNet whitens every pixel, so id_prep's output (and the ID
  // tokens) do not depend on the crop there: the parity test cannot see the crop's layout.
  it("feeds id_prep the crop as [1, 3, 512, 512] RGB planes in [0, 1]", async () => {
    const feeds: Record<string, Tensor>[] = [];
    const runs: string[] = [];
    const graphs = {
      idPrep: fakeGraph("eva_input", [1, 3, 4, 4], runs, feeds),
      idEncoder: fakeGraph("id_tokens", [1, 10, 2], runs),
      resampler: fakeGraph("face_tokens", [1, 16, 2], runs),
    };
    const crop = new Uint8Array(512 * 512 * 3);
    crop.set([255, 51, 0], (10 * 512 + 20) * 3); // pixel (x 20, y 10)
    crop.set([0, 0, 102], (511 * 512 + 511) * 3); // the last pixel
    await new IdentityEncoder(graphs, constants, spec).encode([{ ffhqCrop: crop, arcfaceEmbedding: astronaut.arcfaceEmbedding }]);
    const face = feeds[0]!.aligned_face!;
    const plane = 512 * 512;
    expect(face.dims).toEqual([1, 3, 512, 512]);
    const at = (c: number, y: number, x: number) => (face.data as Float32Array)[c * plane + y * 512 + x];
    expect([at(0, 10, 20), at(1, 10, 20), at(2, 10, 20)]).toEqual([1, Math.fround(0.2), 0]);
    expect([at(0, 511, 511), at(1, 511, 511), at(2, 511, 511)]).toEqual([0, 0, Math.fround(0.4)]);
    expect((face.data as Float32Array).reduce((a, b) => a + b, 0)).toBeCloseTo(1 + 0.2 + 0.4, 5);
  });
});

function mirror(hwc: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(hwc.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) out.set(hwc.subarray((y * size + x) * 3, (y * size + x) * 3 + 3), (y * size + size - 1 - x) * 3);
  }
  return out;
}
