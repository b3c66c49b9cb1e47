/** The edge <-> GPU-function protocol: its messages and the HMAC that signs callbacks. */
export * from "./gpu-protocol.js";
export * from "./signature.js";
