import { describe, expect, it } from "vitest";
import { float32, type Tensor } from "../runtime/tensor.js";
import { controlNetInputs } from "./denoiser.js";

// A 2x2 output: conditions are [1, 3, 2, 2]; face tokens [cond, uncond] of 1 token of width 2.
const image = (v: number) => float32(new Float32Array(12).fill(v), [1, 3, 2, 2]);
const base = { controlImage: image(0.5), faceTokens: float32(Float32Array.of(1, 2, 3, 4), [2, 1, 2]), cnScale: 0.8 };
const values = (t: Tensor | undefined) => Array.from(t?.data as Float32Array);

describe("the ControlNet inputs of a denoiser graph", () => {
  it("for IdentityNet alone are today's: keypoint image per CFG row, both face token rows, cn_scale per row", () => {
    const inputs = controlNetInputs(["identitynet"], base, 2);
    expect(Object.keys(inputs).sort()).toEqual(["cn_scale", "control_image", "face_tokens"]);
    expect(inputs.control_image?.dims).toEqual([2, 3, 2, 2]);
    expect(values(inputs.control_image)).toEqual(new Array(24).fill(0.5));
    expect(inputs.face_tokens).toBe(base.faceTokens);
    expect(values(inputs.cn_scale)).toEqual([Math.fround(0.8), Math.fround(0.8)]);
  });

  it("for no ControlNet are none", () => {
    expect(controlNetInputs([], base, 2)).toEqual({});
  });

  it("give each extra ControlNet its image and scale, one row without guidance", () => {
    const c = { ...base, inpaint: { image: image(-1), scale: 1 }, softedge: { image: image(0.25), scale: 0.6 } };
    const inputs = controlNetInputs(["identitynet", "inpaint", "softedge"], c, 1);
    expect(Object.keys(inputs).sort()).toEqual([
      "cn_scale",
      "control_image",
      "face_tokens",
      "inpaint_image",
      "inpaint_scale",
      "softedge_image",
      "softedge_scale",
    ]);
    expect(inputs.inpaint_image).toBe(c.inpaint.image);
    expect(values(inputs.inpaint_scale)).toEqual([1]);
    expect(values(inputs.softedge_image)).toEqual(new Array(12).fill(0.25));
    expect(values(inputs.softedge_scale)).toEqual([Math.fround(0.6)]);
    expect(values(inputs.face_tokens)).toEqual([1, 2]); // the cond row only
  });

  it("give a ControlNet of the graph that the job does not use a zero image and scale 0", () => {
    // IdentityNet at strength 0 and an inpaint job in a graph that also has Softedge.
    const c = { ...base, cnScale: 0, inpaint: { image: image(-1), scale: 1.2 }, softedge: { image: image(0.25), scale: 0 } };
    const inputs = controlNetInputs(["identitynet", "inpaint", "softedge"], c, 2);
    expect(values(inputs.control_image)).toEqual(new Array(24).fill(0));
    expect(values(inputs.cn_scale)).toEqual([0, 0]);
    expect(values(inputs.softedge_image)).toEqual(new Array(24).fill(0));
    expect(values(inputs.softedge_scale)).toEqual([0, 0]);
    expect(values(inputs.inpaint_image)).toEqual(new Array(24).fill(-1));
    expect(values(inputs.inpaint_scale)).toEqual([Math.fround(1.2), Math.fround(1.2)]);
  });

  it("give a ControlNet the job did not send a zero image and scale 0", () => {
    const inputs = controlNetInputs(["identitynet", "softedge"], base, 2);
    expect(values(inputs.softedge_image)).toEqual(new Array(24).fill(0));
    expect(values(inputs.softedge_scale)).toEqual([0, 0]);
  });

  it("refuse a condition that is not at the output size", () => {
    const c = { ...base, inpaint: { image: float32(new Float32Array(3 * 4 * 4), [1, 3, 4, 4]), scale: 1 } };
    expect(() => controlNetInputs(["identitynet", "inpaint"], c, 2)).toThrow(/output size/);
  });
});
