// The manifest schema only: verify-bundle.ts needs node:fs, so the GPU function imports it directly.
export * from "./manifest.js";
