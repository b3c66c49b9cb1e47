import { z } from "zod";
import { ImageContentType } from "./job-input.js";
import { API_LIMITS } from "./limits.js";

export const CreateUploadRequest = z
  .object({
    content_type: ImageContentType,
    bytes: z.number().int().min(1).max(API_LIMITS.maxImageBytes),
  })
  .strict()
  .meta({ id: "CreateUploadRequest" });

export const Upload = z
  .object({
    id: z.string(),
    object: z.literal("upload"),
    status: z.enum(["pending", "complete"]),
    content_type: ImageContentType,
    bytes: z.number().int(),
    upload_url: z.string().nullable().describe("PUT the file here with its Content-Type; null once complete"),
    upload_url_expires_at: z.iso.datetime().nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    sha256: z.string().nullable(),
    created_at: z.iso.datetime(),
    expires_at: z.iso.datetime(),
  })
  .meta({ id: "Upload" });
export type Upload = z.infer<typeof Upload>;
