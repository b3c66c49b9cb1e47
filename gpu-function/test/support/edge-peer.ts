import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { GpuCallback, GpuJobRequest } from "@ecomid/shared/protocol";
import { verifyCallback } from "@ecomid/shared/protocol";

/**
 * A scripted stand-in for the edge: serves input images, takes uploads through
 * "signed" PUT URLs, verifies and records callbacks with their headers. An upload can
 * be held (not answered) until the test releases it, to keep a job in flight.
 */
export const PEER_SECRET = "s".repeat(43);
const images = { astronaut: readFileSync("test/fixtures/images/astronaut.png"), coffee: readFileSync("test/fixtures/images/coffee.png") };

export interface RecordedCallback {
  body: GpuCallback;
  headers: IncomingHttpHeaders;
}

export class EdgePeer {
  readonly callbacks = new Map<string, RecordedCallback[]>();
  readonly uploads = new Map<string, Buffer>();
  badSignatures = 0;
  /** Callbacks answered with a refusal (see `refusals`), in arrival order. */
  readonly refused: { jobId: string; type: GpuCallback["type"] }[] = [];
  /** Jobs whose next callback is answered "canceled", as the edge does after a user's cancel. */
  readonly cancelJobs = new Set<string>();
  /**
   * Jobs whose callbacks are refused with `status` once `after` of them were accepted, as
   * the edge refuses a deleted job (404) or a superseded attempt (409); the problem body
   * carries no `cancel`, so only the status can tell the GPU function to stop.
   */
  readonly refusals = new Map<string, { status: number; after: number }>();
  private readonly held = new Map<string, { promise: Promise<void>; release: () => void }>();
  private server!: Server;
  base = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res)).listen(0, "127.0.0.1");
    await new Promise((r) => this.server.once("listening", r));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): void {
    for (const h of this.held.values()) h.release();
    this.server.closeAllConnections();
    this.server.close();
  }

  /** Uploads for this job's outputs wait until release(jobId). */
  hold(jobId: string): void {
    let release!: () => void;
    const promise = new Promise<void>((r) => (release = r));
    this.held.set(jobId, { promise, release });
  }

  release(jobId: string): void {
    this.held.get(jobId)?.release();
  }

  of(jobId: string): RecordedCallback[] {
    return this.callbacks.get(jobId) ?? [];
  }

  /** Resolves with the job's first succeeded or failed callback. */
  async outcome(jobId: string, timeoutMs = 90_000): Promise<RecordedCallback> {
    return this.waitFor(jobId, (c) => c.body.type === "succeeded" || c.body.type === "failed", timeoutMs);
  }

  async waitFor(jobId: string, match: (c: RecordedCallback) => boolean, timeoutMs = 90_000): Promise<RecordedCallback> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const found = this.of(jobId).find(match);
      if (found) return found;
      if (Date.now() > until)
        throw new Error(
          `no matching callback for ${jobId}; got ${this.of(jobId)
            .map((c) => c.body.type)
            .join(", ")}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A GPU job request for the tiny bundle whose URLs all point at this peer. */
  job(id: string, overrides: Partial<GpuJobRequest["spec"]> = {}, image: keyof typeof images = "astronaut"): GpuJobRequest {
    return {
      protocol: "ecomid.gpu/1",
      job_id: id,
      attempt: 1,
      model: "ecomid-tiny",
      bundle_version: "ecomid-tiny@0.1.0",
      spec: {
        prompt: "a studio portrait",
        negative_prompt: "",
        reference_images: [{ url: `${this.base}/in/${image}`, content_type: "image/png", sha256: "x", bytes: 1 }],
        keypoints: { type: "reference" },
        identity_strength: 0.3,
        structure_strength: 0.8,
        id_mode: "fidelity",
        id_noise: 0,
        steps: 3,
        guidance: 3.5,
        sampler: "euler",
        seed: 5,
        width: 64,
        height: 64,
        num_outputs: 1,
        output_format: "webp",
        output_quality: 80,
        // The XMP label needs no certificate, which these service tests do not configure.
        provenance: { embed: "iptc", include_prompt: false },
        ...overrides,
      },
      outputs: [{ index: 0, put_url: `${this.base}/out/${id}/0`, content_type: "image/webp", max_bytes: 1e7 }],
      intermediates: [],
      callback: { url: `${this.base}/cb/${id}`, secret: PEER_SECRET },
      deadline_at: null,
      progress_previews: false,
    };
  }

  private async handle(req: IncomingMessage, res: import("node:http").ServerResponse): Promise<void> {
    const url = new URL(req.url!, "http://x");
    const [, kind, name, index] = url.pathname.split("/");
    if (req.method === "GET" && kind === "in" && name && name in images) {
      return void res.writeHead(200, { "content-type": "image/png" }).end(images[name as keyof typeof images]);
    }
    if (req.method === "PUT" && kind === "out" && name) {
      const bytes = await readBody(req);
      await this.held.get(name)?.promise;
      this.uploads.set(`${name}/${index}`, bytes);
      return void res.writeHead(201).end();
    }
    if (req.method === "POST" && kind === "cb" && name) {
      const raw = (await readBody(req)).toString();
      const ok = await verifyCallback(
        PEER_SECRET,
        name,
        Number(req.headers["ecomid-attempt"]),
        raw,
        req.headers["ecomid-signature"] as string,
      );
      if (ok !== "ok") {
        this.badSignatures++;
        return void res.writeHead(403).end();
      }
      const list = this.callbacks.get(name) ?? [];
      const refusal = this.refusals.get(name);
      if (refusal && list.length >= refusal.after) {
        this.refused.push({ jobId: name, type: (JSON.parse(raw) as GpuCallback).type });
        return void res
          .writeHead(refusal.status, { "content-type": "application/problem+json" })
          .end(JSON.stringify({ status: refusal.status, code: "refused", detail: "refused by the test" }));
      }
      list.push({ body: JSON.parse(raw) as GpuCallback, headers: req.headers });
      this.callbacks.set(name, list);
      return void res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ ok: true, cancel: this.cancelJobs.has(name) }));
    }
    res.writeHead(404).end();
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
