/** The edge <-> GPU-function protocol: its messages, its refusals and the HMAC that signs callbacks. */
export * from "./gpu-protocol.js";
export * from "./signature.js";
export * from "./gpu-refusal.js";
