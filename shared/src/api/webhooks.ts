import { z } from "zod";
import { WebhookEventType } from "./job-input.js";

export const WebhookDelivery = z
  .object({
    id: z.string().describe("the webhook-id header; stable across retries"),
    object: z.literal("webhook_delivery"),
    job_id: z.string(),
    type: WebhookEventType,
    sequence: z.number().int(),
    url: z.string(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    delivered_at: z.iso.datetime().nullable(),
  })
  .meta({ id: "WebhookDelivery" });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const WebhookSecret = z
  .object({
    object: z.literal("webhook_secret"),
    secret: z.string().describe("whsec_...: verify the webhook-signature header with it (Standard Webhooks)"),
    previous_valid_until: z.iso
      .datetime()
      .nullable()
      .describe(
        "until when retired secrets still sign too (each for 24 h after the rotation that retired it; this is the last of them); null when none does",
      ),
  })
  .meta({ id: "WebhookSecret" });
