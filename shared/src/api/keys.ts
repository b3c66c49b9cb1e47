import { z } from "zod";

export const Scope = z.enum(["jobs:read", "jobs:write", "admin", "provenance:none"]).meta({
  id: "Scope",
  description: 'provenance:none lets a key ask for unlabelled outputs (provenance.embed "none"); admin implies every scope',
});
export type Scope = z.infer<typeof Scope>;

export const CreateKeyRequest = z
  .object({
    owner_id: z.string().regex(/^[a-z0-9][a-z0-9_-]{1,62}$/, "lowercase letters, digits, _ and -"),
    name: z.string().min(1).max(100).default("default"),
    scopes: z.array(Scope).min(1).default(["jobs:read", "jobs:write"]),
  })
  .strict()
  .meta({ id: "CreateKeyRequest" });

export const ApiKey = z
  .object({
    id: z.string(),
    object: z.literal("api_key"),
    owner_id: z.string(),
    name: z.string(),
    prefix: z.string().describe("the visible start of the key, to tell keys apart"),
    scopes: z.array(Scope),
    created_at: z.iso.datetime(),
    revoked_at: z.iso.datetime().nullable(),
  })
  .meta({ id: "ApiKey" });
export type ApiKey = z.infer<typeof ApiKey>;

export const CreatedApiKey = ApiKey.extend({ key: z.string().describe("shown once; only its hash is stored") }).meta({
  id: "CreatedApiKey",
});
