import { newWebhookSecret } from "../lib/standard-webhooks.js";

export interface OwnerSecrets {
  current: string;
  previous: string | null;
  previousValidUntil: string | null;
}

export async function ensureOwner(db: D1Database, ownerId: string): Promise<void> {
  await db
    .prepare(`INSERT OR IGNORE INTO owners (id, created_at, webhook_secret) VALUES (?, ?, ?)`)
    .bind(ownerId, new Date().toISOString(), newWebhookSecret())
    .run();
}

export async function getOwnerSecrets(db: D1Database, ownerId: string): Promise<OwnerSecrets> {
  await ensureOwner(db, ownerId);
  const row = await db
    .prepare(`SELECT webhook_secret, webhook_secret_prev, webhook_secret_prev_until FROM owners WHERE id = ?`)
    .bind(ownerId)
    .first<{ webhook_secret: string; webhook_secret_prev: string | null; webhook_secret_prev_until: string | null }>();
  const stillValid = row!.webhook_secret_prev_until !== null && Date.parse(row!.webhook_secret_prev_until) > Date.now();
  return {
    current: row!.webhook_secret,
    previous: stillValid ? row!.webhook_secret_prev : null,
    previousValidUntil: stillValid ? row!.webhook_secret_prev_until : null,
  };
}

/** New secret; the old one keeps signing beside it for 24 h so receivers can switch without gaps. */
export async function rotateOwnerSecret(db: D1Database, ownerId: string): Promise<OwnerSecrets> {
  await ensureOwner(db, ownerId);
  const until = new Date(Date.now() + 24 * 3600 * 1000).toISOString();
  await db
    .prepare(`UPDATE owners SET webhook_secret_prev = webhook_secret, webhook_secret_prev_until = ?, webhook_secret = ? WHERE id = ?`)
    .bind(until, newWebhookSecret(), ownerId)
    .run();
  return getOwnerSecrets(db, ownerId);
}
