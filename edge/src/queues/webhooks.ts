import { recordAttempt } from "../db/webhooks.js";
import type { AppBindings } from "../env.js";
import { attemptDelivery } from "../webhooks/deliver.js";
import { readMessage, WebhookMessage } from "./messages.js";

/** Deliveries of a batch go out side by side: a receiver that never answers must not hold up others' for its timeout. */
export async function consumeWebhooks(batch: MessageBatch<unknown>, env: AppBindings): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const body = readMessage(WebhookMessage, message, batch.queue);
      if (!body) return;
      const outcome = await attemptDelivery(env, body.delivery_id);
      if (outcome.kind === "retry") message.retry({ delaySeconds: outcome.delaySeconds });
      else message.ack();
    }),
  );
}

/** The queue gave up (its own retry cap): the delivery stays in the log as failed and can be redelivered. */
export async function consumeWebhookDeadLetters(batch: MessageBatch<unknown>, env: AppBindings): Promise<void> {
  for (const message of batch.messages) {
    const body = readMessage(WebhookMessage, message, batch.queue);
    if (!body) continue;
    await recordAttempt(env.DB, body.delivery_id, {
      status: "failed",
      code: null,
      error: "retries exhausted",
      nextAttemptAt: null,
      deliveredAt: null,
    });
    message.ack();
  }
}
