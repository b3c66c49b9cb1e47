import { describe, expect, it } from "vitest";
import { ErrorCode } from "../errors.js";
import { ERROR_ADVICE } from "./error-advice.js";

describe("error advice", () => {
  it("has one line of advice for every error code, a sentence or two that ends with a full stop", () => {
    for (const code of ErrorCode.options) {
      expect(ERROR_ADVICE[code], code).toMatch(/^[A-Z].*\.$/);
      expect(ERROR_ADVICE[code], code).not.toContain("\n");
    }
  });

  it("states the image limits the API enforces", () => {
    expect(ERROR_ADVICE.image_too_large).toBe("The image is too large: use one of at most 15 MB and 40 megapixels.");
  });
});
