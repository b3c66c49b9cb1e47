import { z } from "zod";
import { log } from "../lib/log.js";

/**
 * The body of each queue's messages, one schema for the producer (its type, through
 * AppBindings' typed queues) and the consumer (which parses with it).
 */

/** An attempt of a job to send to a GPU pool: ecomid-dispatch and its dead-letter queue. */
export const DispatchMessage = z.object({ job_id: z.string(), attempt: z.number().int().min(1) });
export type DispatchMessage = z.infer<typeof DispatchMessage>;

/** A webhook delivery to attempt: ecomid-webhooks and its dead-letter queue. */
export const WebhookMessage = z.object({ delivery_id: z.string() });
export type WebhookMessage = z.infer<typeof WebhookMessage>;

/**
 * The message's body as `schema` reads it, or null for a malformed one, which is logged
 * and acknowledged: no retry can mend it, and it must not hold a batch's other messages.
 */
export function readMessage<T>(schema: z.ZodType<T>, message: Message<unknown>, queue: string): T | null {
  const parsed = schema.safeParse(message.body);
  if (parsed.success) return parsed.data;
  log("error", "queue message malformed; dropped", {
    queue,
    message_id: message.id,
    body: message.body,
    issues: parsed.error.issues.map((i) => i.message),
  });
  message.ack();
  return null;
}
