import { AppError } from "../errors.js";
import { newWebhookSecret } from "../lib/standard-webhooks.js";

export interface OwnerSecrets {
  current: string;
  /** Secrets retired by rotations within their overlap, newest first: deliveries are signed with each. */
  retired: string[];
  /** When the last of them stops signing; null when none does. */
  retiredValidUntil: string | null;
}

/** How long a retired secret keeps signing beside the new one: receivers switch without a gap. */
export const RETIRED_SECRET_OVERLAP_MS = 24 * 3600 * 1000;
/** Secrets in their overlap at once (each adds a signature to every delivery). */
export const MAX_RETIRED_SECRETS = 5;

export async function ensureOwner(db: D1Database, ownerId: string): Promise<void> {
  await db
    .prepare(`INSERT OR IGNORE INTO owners (id, created_at, webhook_secret) VALUES (?, ?, ?)`)
    .bind(ownerId, new Date().toISOString(), newWebhookSecret())
    .run();
}

export async function getOwnerSecrets(db: D1Database, ownerId: string, nowMs = Date.now()): Promise<OwnerSecrets> {
  await ensureOwner(db, ownerId);
  const [owner, retired] = await db.batch([
    db.prepare(`SELECT webhook_secret FROM owners WHERE id = ?`).bind(ownerId),
    db
      .prepare(`SELECT secret, valid_until FROM retired_webhook_secrets WHERE owner_id = ? AND valid_until > ? ORDER BY valid_until DESC`)
      .bind(ownerId, new Date(nowMs).toISOString()),
  ]);
  const rows = retired!.results as Array<{ secret: string; valid_until: string }>;
  return {
    current: (owner!.results[0] as { webhook_secret: string }).webhook_secret,
    retired: rows.map((r) => r.secret),
    retiredValidUntil: rows[0]?.valid_until ?? null,
  };
}

/**
 * A new secret; the one it replaces keeps signing beside it for 24 h, as does every
 * secret retired before it within its own 24 h. At most MAX_RETIRED_SECRETS overlap:
 * a rotation beyond that waits (429) until the oldest one's overlap ends.
 */
export async function rotateOwnerSecret(db: D1Database, ownerId: string, nowMs = Date.now()): Promise<OwnerSecrets> {
  const before = await getOwnerSecrets(db, ownerId, nowMs);
  if (before.retired.length >= MAX_RETIRED_SECRETS) {
    const oldest = await db
      .prepare(`SELECT min(valid_until) AS until FROM retired_webhook_secrets WHERE owner_id = ? AND valid_until > ?`)
      .bind(ownerId, new Date(nowMs).toISOString())
      .first<{ until: string }>();
    const wait = Math.max(1, Math.ceil((Date.parse(oldest!.until) - nowMs) / 1000));
    throw new AppError(
      "rate_limited",
      `${MAX_RETIRED_SECRETS} retired secrets still sign beside the current one; rotate again in ${wait} s`,
      { headers: { "retry-after": String(wait) } },
    );
  }
  await db.batch([
    db.prepare(`DELETE FROM retired_webhook_secrets WHERE owner_id = ? AND valid_until <= ?`).bind(ownerId, new Date(nowMs).toISOString()),
    db
      .prepare(`INSERT OR REPLACE INTO retired_webhook_secrets (owner_id, secret, valid_until) VALUES (?, ?, ?)`)
      .bind(ownerId, before.current, new Date(nowMs + RETIRED_SECRET_OVERLAP_MS).toISOString()),
    db.prepare(`UPDATE owners SET webhook_secret = ? WHERE id = ?`).bind(newWebhookSecret(), ownerId),
  ]);
  return getOwnerSecrets(db, ownerId, nowMs);
}
