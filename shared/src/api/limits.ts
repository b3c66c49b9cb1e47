/** Hard limits of the public API. A model may narrow them (see models.ts). */
export const API_LIMITS = {
  maxReferenceImages: 4,
  maxPromptChars: 2000,
  minSide: 64,
  maxSide: 2048,
  /** 1536 x 1536: beyond this SDXL quality falls apart and memory balloons. */
  maxOutputPixels: 1536 * 1536,
  maxSteps: 100,
  maxGuidance: 30,
  maxStrength: 2,
  /**
   * Inpaint mask grow and feather, in pixels. The grow is a dilation with an elliptic
   * kernel of (2 * grow + 1)^2 taps per pixel, which is not separable: at 64 px that is
   * about 16,600 taps per pixel of a 1536 x 1536 output, the most this keeps bounded.
   */
  maxMaskGrowPixels: 64,
  maxMaskFeatherPixels: 64,
  maxOutputs: 4,
  maxSeed: 4294967295,
  maxImageBytes: 15 * 1024 * 1024,
  /**
   * A multipart job with its images inline, all parts together. A Worker has 128 MB and
   * the body is held more than once while parsed; larger sets of images go through uploads.
   */
  maxMultipartBytes: 32 * 1024 * 1024,
  /** Decompression-bomb guard: 40 MP, e.g. 8000 x 5000. */
  maxImagePixels: 40_000_000,
  maxMetadataKeys: 20,
  maxMetadataKeyChars: 40,
  maxMetadataValueChars: 500,
  minDeadlineSeconds: 10,
  maxDeadlineSeconds: 24 * 3600,
  minRetentionSeconds: 3600,
  maxRetentionSeconds: 30 * 24 * 3600,
  defaultRetentionSeconds: 7 * 24 * 3600,
  maxUrlChars: 2048,
  maxIdempotencyKeyChars: 255,
} as const;

export const ALLOWED_IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;
