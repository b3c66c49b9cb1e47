/**
 * The key bytes of a Standard Webhooks secret, `whsec_<base64>` (a bare base64 key is taken too),
 * or null when it is not base64 or empty. The edge signs with it and the SDK verifies with it.
 */
export function webhookSecretBytes(secret: string): Uint8Array | null {
  try {
    const binary = atob(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret);
    return binary.length ? Uint8Array.from(binary, (c) => c.charCodeAt(0)) : null;
  } catch {
    return null;
  }
}
