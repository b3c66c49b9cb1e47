import { z } from "zod";
import { recordAttempt } from "../db/webhooks.js";
import type { AppBindings } from "../env.js";
import { attemptDelivery } from "../webhooks/deliver.js";

const WebhookMessage = z.object({ delivery_id: z.string() });

/** Deliveries of a batch go out side by side: a receiver that never answers must not hold up others' for its timeout. */
export async function consumeWebhooks(batch: MessageBatch<unknown>, env: AppBindings): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = WebhookMessage.safeParse(message.body);
      if (!parsed.success) return message.ack();
      const outcome = await attemptDelivery(env, parsed.data.delivery_id);
      if (outcome.kind === "retry") message.retry({ delaySeconds: outcome.delaySeconds });
      else message.ack();
    }),
  );
}

/** The queue gave up (its own retry cap): the delivery stays in the log as failed and can be redelivered. */
export async function consumeWebhookDeadLetters(batch: MessageBatch<unknown>, env: AppBindings): Promise<void> {
  for (const message of batch.messages) {
    const parsed = WebhookMessage.safeParse(message.body);
    if (parsed.success) {
      await recordAttempt(env.DB, parsed.data.delivery_id, { status: "failed", code: null, error: "retries exhausted", nextAttemptAt: null, deliveredAt: null });
    }
    message.ack();
  }
}
