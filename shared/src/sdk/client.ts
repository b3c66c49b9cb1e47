import { z } from "zod";
import { CreatedApiKey, ApiKey, type CreateKeyRequest } from "../api/keys.js";
import type { CreateJobRequest } from "../api/job-input.js";
import { Job, JobList, type ListJobsQuery } from "../api/job.js";
import { Model } from "../api/models.js";
import { Upload } from "../api/uploads.js";
import { EcomidApiError, EcomidResponseError } from "./errors.js";
import { buildJobForm, type FileInput, toBlob } from "./files.js";
import { sleep } from "./sleep.js";
import { DEFAULT_RETRY_POLICY, isRepeatable, retryDelayMs, type Attempt, type RetryPolicy } from "./retry.js";
import { waitForJob, type WaitOptions } from "./wait.js";

export interface EcomidClientOptions {
  /** e.g. http://127.0.0.1:8787 (a trailing /v1 is accepted). */
  baseUrl: string;
  apiKey: string;
  /** A fetch to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
  /**
   * Automatic retries of repeatable requests after a broken connection, 429, 502, 503
   * or 504 (default: 2 retries, 0.5 s doubling with jitter, Retry-After honoured up to
   * 20 s). `{ maxRetries: 0 }` turns them off.
   */
  retry?: Partial<RetryPolicy>;
}

/** The request as callers write it: optional fields may be left out and take the model's defaults. */
export type CreateJobParams = z.input<typeof CreateJobRequest>;
export type ListJobsParams = Partial<Omit<z.input<typeof ListJobsQuery>, "cursor">>;

export interface CreateJobOptions {
  /** Parts for `{ file: name }` image references; their presence makes the request multipart. */
  files?: Record<string, FileInput>;
  /**
   * Makes retrying the creation safe: a replay returns the first job (24 h, per key).
   * Without one the client makes one per call, so its own retries never create a second job.
   */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

const KeyList = z.object({ object: z.literal("list"), data: z.array(ApiKey) });
const ModelList = z.object({ object: z.literal("list"), data: z.array(Model) });

/**
 * A typed client for the EcomID API; every response is checked against the shared zod schemas.
 *
 * @example
 * const client = new EcomidClient({ baseUrl: "http://127.0.0.1:8787", apiKey });
 * const job = await client.createJob({ model: "ecomid-tiny", input: { reference_images: [{ file: "face" }], prompt: "a portrait" } }, { files: { face: bytes } });
 * const done = await client.waitForJob(job.id, { onEvent: (e) => console.log(e.type) });
 */
export class EcomidClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly fetchImpl: typeof fetch;
  private readonly retryPolicy: RetryPolicy;

  constructor(options: EcomidClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "");
    this.apiKey = options.apiKey;
    // Bound, because a detached `fetch` throws "Illegal invocation" in browsers.
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  }

  /**
   * A raw authenticated call; non-2xx becomes EcomidApiError. A repeatable request is
   * sent again after a broken connection or a refusal that waiting fixes (retry.ts).
   * Bodies must be re-readable (string, Blob, FormData, bytes), as all of this client's are.
   */
  send(
    method: string,
    path: string,
    init: { body?: BodyInit; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    return this.fetchWithRetries(
      `${this.baseUrl}${path}`,
      method,
      { authorization: `Bearer ${this.apiKey}`, ...init.headers },
      init.body,
      init.signal,
    );
  }

  private async fetchWithRetries(
    url: string,
    method: string,
    headers: Record<string, string>,
    body?: BodyInit,
    signal?: AbortSignal,
  ): Promise<Response> {
    const repeatable = isRepeatable(method, headers);
    for (let retry = 1; ; retry++) {
      let attempt: Attempt;
      let failure: unknown;
      try {
        const response = await this.fetchImpl(url, {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
          ...(signal ? { signal } : {}),
        });
        if (response.ok) return response;
        const refusal = await EcomidApiError.fromResponse(response);
        failure = refusal;
        attempt = { kind: "response", status: response.status, code: refusal.code, retryAfterSeconds: refusal.retryAfter };
      } catch (e) {
        // The caller's own abort (or timeout) is an answer, not a failure to work around.
        if (signal?.aborted || !(e instanceof TypeError)) throw e;
        failure = e;
        attempt = { kind: "network_error" };
      }
      const delay = repeatable ? retryDelayMs(this.retryPolicy, retry, attempt, Math.random()) : null;
      if (delay === null) throw failure;
      await sleep(delay, signal);
    }
  }

  private async json<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    body?: unknown,
    extra: { headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<z.output<S>> {
    const response = await this.send(method, path, {
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { "content-type": "application/json", ...extra.headers } }
        : { headers: extra.headers ?? {} }),
      ...(extra.signal ? { signal: extra.signal } : {}),
    });
    return parseBody(schema, await response.text(), `${method} ${path}`);
  }

  /** POST /v1/jobs: JSON, or multipart when files are given. */
  async createJob(request: CreateJobParams, options: CreateJobOptions = {}): Promise<Job> {
    const headers: Record<string, string> = { "idempotency-key": options.idempotencyKey ?? `sdk-${crypto.randomUUID()}` };
    const signal = options.signal ? { signal: options.signal } : {};
    if (!options.files || Object.keys(options.files).length === 0)
      return this.json(Job, "POST", "/v1/jobs", request, { headers, ...signal });
    // fetch sets the multipart boundary itself when the body is FormData.
    const response = await this.send("POST", "/v1/jobs", { body: buildJobForm(request, options.files), headers, ...signal });
    return parseBody(Job, await response.text(), "POST /v1/jobs");
  }

  /** Direct upload: POST /v1/uploads, then PUT the bytes to the signed URL. Returns the upload id. */
  async uploadFile(file: FileInput, contentType?: string): Promise<string> {
    const blob = toBlob(file);
    const type = contentType ?? blob.type;
    const upload = await this.json(Upload, "POST", "/v1/uploads", { content_type: type, bytes: blob.size });
    if (!upload.upload_url) throw new EcomidResponseError(`upload ${upload.id} came without an upload_url`);
    const target = new URL(upload.upload_url, this.baseUrl).toString();
    // The signed URL is the credential; no Authorization header goes to it. A PUT of the
    // same bytes again is harmless (uploads are stored by content hash), so it is retried.
    await this.fetchWithRetries(target, "PUT", { "content-type": type }, blob);
    return upload.id;
  }

  getJob(id: string, signal?: AbortSignal): Promise<Job> {
    return this.json(Job, "GET", `/v1/jobs/${encodeURIComponent(id)}`, undefined, signal ? { signal } : {});
  }

  /** One page of GET /v1/jobs. */
  listJobsPage(params: ListJobsParams & { cursor?: string } = {}): Promise<z.output<typeof JobList>> {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, String(v));
    // toString, not URLSearchParams.size, which older runtimes lack.
    const qs = query.toString() ? `?${query}` : "";
    return this.json(JobList, "GET", `/v1/jobs${qs}`);
  }

  /** Every job matching params, newest first, following next_cursor page by page. */
  async *listJobs(params: ListJobsParams = {}): AsyncGenerator<Job> {
    let cursor: string | undefined;
    do {
      const page = await this.listJobsPage({ ...params, ...(cursor ? { cursor } : {}) });
      yield* page.data;
      cursor = page.has_more && page.next_cursor ? page.next_cursor : undefined;
    } while (cursor);
  }

  cancelJob(id: string): Promise<Job> {
    return this.json(Job, "POST", `/v1/jobs/${encodeURIComponent(id)}/cancel`);
  }

  async deleteJob(id: string): Promise<void> {
    await this.send("DELETE", `/v1/jobs/${encodeURIComponent(id)}`);
  }

  /** Follows the job's event stream (polling when it cannot) until the job is terminal; returns the final job. */
  waitForJob(id: string, options: WaitOptions = {}): Promise<Job> {
    return waitForJob(this, id, options);
  }

  /** The bytes of output `index` (the API redirects to a signed URL, which fetch follows). */
  async downloadOutput(id: string, index: number): Promise<{ bytes: Uint8Array; contentType: string }> {
    const response = await this.send("GET", `/v1/jobs/${encodeURIComponent(id)}/outputs/${index}`);
    return {
      bytes: new Uint8Array(await response.arrayBuffer()),
      contentType: response.headers.get("content-type") ?? "application/octet-stream",
    };
  }

  async listModels(): Promise<Model[]> {
    return (await this.json(ModelList, "GET", "/v1/models")).data;
  }

  // Admin endpoints (a key with the admin scope).
  createKey(request: z.input<typeof CreateKeyRequest>): Promise<z.output<typeof CreatedApiKey>> {
    return this.json(CreatedApiKey, "POST", "/v1/admin/keys", request);
  }

  async listKeys(ownerId?: string): Promise<ApiKey[]> {
    const qs = ownerId ? `?owner_id=${encodeURIComponent(ownerId)}` : "";
    return (await this.json(KeyList, "GET", `/v1/admin/keys${qs}`)).data;
  }

  revokeKey(id: string): Promise<ApiKey> {
    return this.json(ApiKey, "POST", `/v1/admin/keys/${encodeURIComponent(id)}/revoke`);
  }
}

function parseBody<S extends z.ZodType>(schema: S, text: string, what: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new EcomidResponseError(`${what}: the response is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new EcomidResponseError(`${what}: the response does not match the schema: ${parsed.error.issues[0]?.message ?? ""}`);
  return parsed.data;
}
