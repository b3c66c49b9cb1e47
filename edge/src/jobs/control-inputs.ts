import { DEFAULT_EDGE_DETECTOR, type ResolvedJobInput } from "@ecomid/shared/api";
import type { ResolvedImage, ResolvedInpaint, ResolvedSoftedge } from "@ecomid/shared/protocol";
import type { StoredImage, StoredInputs } from "./types.js";

/** A stored input the job's record must hold: a job that asks for it and lacks it was stored wrong. */
function required(image: StoredImage | null | undefined, what: string): StoredImage {
  if (!image) throw new Error(`the job's record lacks its ${what}`);
  return image;
}

/** The inpaint and softedge inputs of a dispatch: the job's parameters with its stored images signed by `sign`. */
export async function resolvedControlInputs(
  input: Pick<ResolvedJobInput, "inpaint" | "softedge">,
  stored: StoredInputs,
  sign: (image: StoredImage) => Promise<ResolvedImage>,
): Promise<{ inpaint?: ResolvedInpaint; softedge?: ResolvedSoftedge }> {
  const out: { inpaint?: ResolvedInpaint; softedge?: ResolvedSoftedge } = {};
  if (input.inpaint) {
    const { image: _image, mask: _mask, ...params } = input.inpaint;
    out.inpaint = {
      ...params,
      image: await sign(required(stored.inpaint_image, "inpaint image")),
      mask: params.mask_from === "alpha" ? null : await sign(required(stored.inpaint_mask, "inpaint mask")),
    };
  }
  if (input.softedge) {
    const image = await sign(required(stored.softedge_image, "softedge image"));
    const { strength } = input.softedge;
    // createJob names the detector on every job that gives a photo; the default stands for one stored without it.
    out.softedge =
      input.softedge.edge_map !== undefined
        ? { edge_map: image, strength }
        : { image, detector: input.softedge.detector ?? DEFAULT_EDGE_DETECTOR, strength };
  }
  return out;
}
