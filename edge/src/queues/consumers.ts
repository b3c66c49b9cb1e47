import type { AppBindings } from "../env.js";
import { log } from "../lib/log.js";
import { consumeDispatch, consumeDispatchDeadLetters } from "./dispatch.js";
import { consumeWebhookDeadLetters, consumeWebhooks } from "./webhooks.js";

type Consumer = (batch: MessageBatch<unknown>, env: AppBindings) => Promise<void>;

/**
 * Consumers by queue-name prefix (an environment may add a suffix: ecomid-dispatch-staging).
 * A dead-letter queue comes before its source queue, whose name its own starts with.
 */
const CONSUMERS: ReadonlyArray<readonly [prefix: string, consume: Consumer]> = [
  ["ecomid-dispatch-dlq", consumeDispatchDeadLetters],
  ["ecomid-dispatch", consumeDispatch],
  ["ecomid-webhooks-dlq", consumeWebhookDeadLetters],
  ["ecomid-webhooks", consumeWebhooks],
];

/** How long messages of an unknown queue wait between tries: time for a deploy that routes them. */
export const UNKNOWN_QUEUE_RETRY_DELAY_SECONDS = 300;

/**
 * Hands a batch to its queue's consumer. A queue with none is a configuration error (a
 * renamed or newly bound queue): its messages are real work, so they are retried, not
 * acknowledged, and each try logs an error naming the queue. Once the queue's retries
 * run out they go to its dead-letter queue, where it has one.
 */
export async function consumeQueue(batch: MessageBatch<unknown>, env: AppBindings): Promise<void> {
  const consume = CONSUMERS.find(([prefix]) => batch.queue.startsWith(prefix))?.[1];
  if (consume) return consume(batch, env);
  log("error", "no consumer for this queue; its messages are retried", { queue: batch.queue, messages: batch.messages.length });
  batch.retryAll({ delaySeconds: UNKNOWN_QUEUE_RETRY_DELAY_SECONDS });
}
