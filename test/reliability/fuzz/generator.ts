import { DEAD_WEBHOOK_URL, type FuzzFixtures } from "./fixtures.js";
import type { Schema } from "./json-schema.js";
import { Mutator } from "./mutate.js";
import type { Random } from "./random.js";
import type { RawRequest } from "./send.js";

/** One generated request, with what it is meant to exercise (printed when it fails). */
export interface FuzzCase {
  kind: string;
  note: string;
  request: RawRequest;
  /** An over-limit body sent in a stream: refusing it by closing the connection mid-upload is a valid answer (RFC 9110, 413). */
  closeAllowed?: boolean;
}

interface DocOperation {
  method: string;
  template: string;
  requestSchemas: Record<string, Schema>;
}

/** Ids of jobs the fuzzer created along the way; cancel and delete aim at them. */
export interface LiveState {
  createdJobs: string[];
}

const MAX_JSON_BYTES = 256 * 1024;
/** Past every route's limit (the multipart limit is the largest, 6 x 15 MB). */
const OVER_EVERY_LIMIT = 6 * 15 * 1024 * 1024 + 1;

const ODD_IDS = [
  "job_00000000000000000000000000",
  "job_0000000000000000000000000",
  "JOB_00000000000000000000000000",
  "job_" + "z".repeat(500),
  "a".repeat(5000),
  "..",
  "%2e%2e",
  "..%2F..%2Fetc%2Fpasswd",
  "%2F",
  "%00",
  "%ZZ",
  "%",
  "%C0%AF",
  "%F0%9F%98%80",
  "job_x%0D%0ASet-Cookie:%20a=b",
  ";",
  "%3F",
  "%20",
  "upl_00000000000000000000000000",
  "key_00000000000000000000000000",
  "evt_00000000000000000000000000",
  "null",
  "undefined",
  "0",
  "-1",
  "1e309",
  "__proto__",
  "constructor",
  "%22%3E%3Cscript%3E",
  "'%20OR%201=1",
  "job_%E2%80%AE",
  "~",
  "*",
];
const ODD_INDEXES = ["-1", "0", "1", "3", "99999999999999999999", "1e3", "NaN", "0x0", "%20", "1.5", "Infinity", "00"];
const ODD_PATHS = [
  "//v1//jobs",
  "/v1/jobs/",
  "/v1/jobs/../uploads",
  "/v1/jobs/%2e%2e/uploads",
  "/V1/JOBS",
  "/v1/jobs;x=1",
  "/v1/jobs%2F",
  "/v1/",
  "/v2/jobs",
  "/%2e%2e/%2e%2e/etc/passwd",
  "/files/../v1/admin/keys",
  "/files/%2e%2e/%2e%2e/etc/passwd",
  "/internal/gpu/jobs/job_x/callbacks",
  "/internal/../v1/jobs",
  "/v1/openapi.json/..",
  "/v1/uploads/../admin/keys",
  "/v1/jobs/x/outputs/0/extra",
  "/v1/webhook_secret/rotate/",
  "/.env",
  "/wrangler.toml",
  "/v1/jobs?%ZZ=1",
  "/v1/admin",
  "/v1/admin/keys/x/revoke/x",
];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "PROPFIND", "MKCOL"];
const CONTENT_TYPES = [
  "text/plain",
  "application/xml",
  "application/x-www-form-urlencoded",
  "application/jsonx",
  "json",
  "application/json; charset=latin1",
  "APPLICATION/JSON",
  "multipart/form-data",
  "multipart/form-data; boundary=",
  "multipart/mixed; boundary=x",
  "image/png",
  "*/*",
  "application/problem+json",
  ";;;",
  "",
];
const BAD_JSON = [
  "",
  " ",
  "{",
  "}",
  "[",
  '{"input":',
  "{'input': {}}",
  '{"input":{"prompt":"a",}}',
  "null",
  "true",
  "0",
  '"string"',
  "[]",
  "NaN",
  '{"a":1}{"b":2}',
  '{"input":{"prompt":"a" /* c */}}',
  '\ufeff{"input":{}}',
  '{"input":{"steps":1e999}}',
  '{"input":{"steps":-0}}',
  '{"__proto__":{"admin":true}}',
  '{"input":{"prompt":"\\ud800"}}',
  '{"model":"ecomid-tiny","model":"ecomid-sdxl"}',
  "\u0000",
  '{"input":{"prompt":"a"}}\u0000',
];

export class CaseGenerator {
  private readonly operations: DocOperation[];

  constructor(
    private readonly doc: Record<string, unknown> & {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>>;
    },
    private readonly fx: FuzzFixtures,
    private readonly live: LiveState,
  ) {
    this.operations = Object.entries(doc.paths).flatMap(([template, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase(),
        template,
        requestSchemas: Object.fromEntries(Object.entries(op.requestBody?.content ?? {}).map(([t, c]) => [t, c.schema])),
      })),
    );
  }

  /** Every documented (method, path), for the coverage report. */
  get documented(): string[] {
    return this.operations.map((o) => `${o.method} ${o.template}`);
  }

  generate(r: Random): FuzzCase {
    const kind = r.weighted<string>([
      [28, "json-mutation"],
      [8, "bad-json"],
      [6, "content-type"],
      [2, "huge-body"],
      [9, "multipart"],
      [13, "headers"],
      [11, "odd-path"],
      [6, "wrong-method"],
      [6, "query"],
      [11, "valid"],
    ]);
    switch (kind) {
      case "json-mutation":
        return this.jsonMutation(r);
      case "bad-json":
        return this.badJson(r);
      case "content-type":
        return this.contentType(r);
      case "huge-body":
        return this.hugeBody(r);
      case "multipart":
        return this.multipart(r);
      case "headers":
        return this.hostileHeaders(r);
      case "odd-path":
        return this.oddPath(r);
      case "wrong-method":
        return this.wrongMethod(r);
      case "query":
        return this.query(r);
      default:
        return this.valid(r, this.pickOperation(r));
    }
  }

  private pickOperation(r: Random, filter: (o: DocOperation) => boolean = () => true): DocOperation {
    return r.pick(this.operations.filter(filter));
  }

  private keyFor(template: string, r: Random): string {
    return template.startsWith("/v1/admin") && r.chance(0.85) ? this.fx.adminKey : this.fx.apiKey;
  }

  private auth(template: string, r: Random): Array<[string, string]> {
    return [["authorization", `Bearer ${this.keyFor(template, r)}`]];
  }

  /** The documented path with real ids where they exist. */
  private fill(template: string, r: Random, method = "GET"): string {
    return template
      .replace("/v1/uploads/{id}", `/v1/uploads/${r.chance(0.8) ? this.fx.uploadId : this.fx.pendingUploadId}`)
      .replace("/v1/admin/keys/{id}", `/v1/admin/keys/${this.fx.revokedKeyId}`)
      .replace("{id}", this.jobFor(template, r, method))
      .replace("{delivery}", this.fx.deliveryId ?? "evt_00000000000000000000000000")
      .replace("{index}", r.chance(0.8) ? "0" : "1");
  }

  /** Cancel and delete aim at jobs created along the way; the fixture job must survive the run. */
  private jobFor(template: string, r: Random, method: string): string {
    if (method === "DELETE") return this.live.createdJobs.length ? r.pick(this.live.createdJobs) : "job_00000000000000000000000000";
    if (template.endsWith("/cancel") && this.live.createdJobs.length && r.chance(0.5)) return r.pick(this.live.createdJobs);
    return this.fx.jobId;
  }

  validBody(template: string, r: Random): Record<string, unknown> {
    if (template === "/v1/uploads")
      return { content_type: r.pick(["image/png", "image/jpeg", "image/webp"]), bytes: r.int(1, 15 * 1024 * 1024) };
    if (template === "/v1/admin/keys")
      return { owner_id: `fuzz-made-${r.int(0, 50)}`, scopes: r.pick([["jobs:read"], ["jobs:read", "jobs:write"]]), name: "fuzz" };
    // A fixed handful of seeds on the same upload: after the first of each, the result cache answers without GPU work.
    return {
      model: "ecomid-tiny",
      input: {
        reference_images: [{ upload_id: this.fx.uploadId }],
        prompt: "a fuzzed portrait",
        seed: r.int(1, 3),
        ...(r.chance(0.3)
          ? {
              keypoints: {
                type: "points",
                points: [
                  [20, 24],
                  [40, 24],
                  [32, 34],
                  [24, 44],
                  [40, 44],
                ],
              },
            }
          : {}),
      },
      ...(r.chance(0.2) ? { webhook: { url: DEAD_WEBHOOK_URL }, metadata: { order: String(r.int(1, 999)) } } : {}),
    };
  }

  private jsonRequest(
    method: string,
    target: string,
    body: Buffer | string,
    headers: Array<[string, string]>,
    type = "application/json",
  ): RawRequest {
    return {
      method,
      target,
      headers: [...headers, ["content-type", type]],
      body: Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8"),
    };
  }

  private jsonMutation(r: Random): FuzzCase {
    const op = this.pickOperation(r, (o) => "application/json" in o.requestSchemas);
    const mutator = new Mutator(this.doc, r);
    const { body, notes } = mutator.mutate(this.validBody(op.template, r) as never, op.requestSchemas["application/json"]!, r.int(1, 3));
    return {
      kind: "json-mutation",
      note: notes.join("; "),
      request: this.jsonRequest(op.method, op.template, JSON.stringify(body), this.auth(op.template, r)),
    };
  }

  private badJson(r: Random): FuzzCase {
    const op = this.pickOperation(r, (o) => "application/json" in o.requestSchemas);
    const valid = JSON.stringify(this.validBody(op.template, r));
    const text = r.weighted<() => Buffer>([
      [4, () => Buffer.from(r.pick(BAD_JSON), "utf8")],
      [3, () => Buffer.from(valid.slice(0, r.int(0, valid.length - 1)), "utf8")],
      [1, () => Buffer.concat([Buffer.from(valid.slice(0, 20)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(valid.slice(20))])],
      [1, () => Buffer.from("[".repeat(r.pick([1000, 100_000])) + "]".repeat(r.chance(0.5) ? 0 : 1000), "utf8")],
      [1, () => Buffer.from(`{"input":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}`, "utf8")],
      [1, () => Buffer.from(Array.from({ length: r.int(1, 200) }, () => r.int(0, 255)))],
    ])();
    return {
      kind: "bad-json",
      note: text.subarray(0, 80).toString("latin1"),
      request: this.jsonRequest(op.method, op.template, text, this.auth(op.template, r)),
    };
  }

  private contentType(r: Random): FuzzCase {
    const op = this.pickOperation(r, (o) => Object.keys(o.requestSchemas).length > 0);
    const type = r.pick(CONTENT_TYPES);
    const headers = this.auth(op.template, r);
    const body = Buffer.from(JSON.stringify(this.validBody(op.template, r)));
    const req: RawRequest = r.chance(0.15)
      ? { method: op.method, target: op.template, headers, body }
      : this.jsonRequest(op.method, op.template, body, headers, type);
    return { kind: "content-type", note: req.headers.find(([k]) => k === "content-type")?.[1] ?? "(none)", request: req };
  }

  private hugeBody(r: Random): FuzzCase {
    const op = this.pickOperation(r, (o) => o.method === "POST");
    const target = this.fill(op.template, r, op.method);
    const headers = this.auth(op.template, r);
    const filler = Buffer.alloc(64 * 1024, "a");
    const json = (bytes: number) => Buffer.concat([Buffer.from('{"input":{"prompt":"'), Buffer.alloc(bytes, "a"), Buffer.from('"}}')]);
    const streamed = (total: number, head: Buffer) => ({
      chunked: true as const,
      chunks: function* () {
        yield head;
        for (let sent = head.length; sent < total; sent += filler.length) yield filler.subarray(0, Math.min(filler.length, total - sent));
      },
    });
    // The two bodies past every limit are ~90 MB each: rare, but every run meets them.
    const variant = r.weighted<string>([
      [5, "json-over-limit"],
      [5, "json-chunked-over-limit"],
      [3, "json-at-limit"],
      [1, "declared-over-every-limit"],
      [1, "multipart-chunked-over-every-limit"],
    ]);
    const multipartHead = Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="face"; filename="f.png"\r\nContent-Type: image/png\r\n\r\n',
    );
    let req: RawRequest;
    if (variant === "json-over-limit") req = this.jsonRequest("POST", target, json(MAX_JSON_BYTES + r.int(1, 1024 * 1024)), headers);
    else if (variant === "json-at-limit") req = this.jsonRequest("POST", target, json(MAX_JSON_BYTES - 64), headers);
    else if (variant === "json-chunked-over-limit")
      req = {
        method: "POST",
        target,
        headers: [...headers, ["content-type", "application/json"]],
        body: streamed(MAX_JSON_BYTES + 128 * 1024, Buffer.from('{"input":{"prompt":"')),
      };
    // Sent in full: the dev server in front of the worker waits for a declared body before it answers.
    else if (variant === "declared-over-every-limit")
      req = {
        method: "POST",
        target,
        headers: [...headers, ["content-type", "application/json"], ["content-length", String(OVER_EVERY_LIMIT)]],
        body: streamed(OVER_EVERY_LIMIT, Buffer.alloc(0)),
      };
    else
      req = {
        method: "POST",
        target: "/v1/jobs",
        headers: [...this.auth("/v1/jobs", r), ["content-type", "multipart/form-data; boundary=XyZ"]],
        body: streamed(OVER_EVERY_LIMIT, multipartHead),
      };
    return { kind: "huge-body", note: variant, request: req, closeAllowed: req.body !== undefined && !Buffer.isBuffer(req.body) };
  }

  private multipart(r: Random, only?: "valid"): FuzzCase {
    const boundary = "----fuzz" + r.int(0, 1e9);
    const part = (name: string, content: Buffer | string, filename?: string, type?: string) =>
      Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ""}\r\n${type ? `Content-Type: ${type}\r\n` : ""}\r\n`,
        ),
        Buffer.isBuffer(content) ? content : Buffer.from(content),
        Buffer.from("\r\n"),
      ]);
    const end = Buffer.from(`--${boundary}--\r\n`);
    const job = (ref: Record<string, unknown>) =>
      JSON.stringify({ model: "ecomid-tiny", input: { reference_images: [ref], prompt: "multipart fuzz", seed: 1 } });
    const variant =
      only ??
      r.weighted<string>([
        [2, "no-boundary"],
        [2, "wrong-boundary"],
        [2, "truncated"],
        [2, "no-request-part"],
        [1, "request-as-file"],
        [2, "file-as-text"],
        [2, "not-an-image"],
        [2, "bad-json-part"],
        [1, "missing-file-part"],
        [1, "many-parts"],
        [1, "duplicate-names"],
        [1, "traversal-filename"],
        [1, "empty"],
        [2, "valid"],
      ]);
    let body: Buffer;
    let type = `multipart/form-data; boundary=${boundary}`;
    const face = this.fx.face;
    switch (variant) {
      case "no-boundary":
        type = "multipart/form-data";
        body = Buffer.concat([part("request", job({ file: "face" })), end]);
        break;
      case "wrong-boundary":
        type = "multipart/form-data; boundary=other";
        body = Buffer.concat([part("request", job({ file: "face" })), end]);
        break;
      case "truncated": {
        const whole = Buffer.concat([part("request", job({ file: "face" })), part("face", face, "face.png", "image/png"), end]);
        body = whole.subarray(0, r.int(1, whole.length - 1));
        break;
      }
      case "no-request-part":
        body = Buffer.concat([part("face", face, "face.png", "image/png"), end]);
        break;
      case "request-as-file":
        body = Buffer.concat([
          part("request", job({ file: "face" }), "request.json", "application/json"),
          part("face", face, "face.png", "image/png"),
          end,
        ]);
        break;
      case "file-as-text":
        body = Buffer.concat([part("request", job({ file: "face" })), part("face", "not a file"), end]);
        break;
      case "not-an-image":
        body = Buffer.concat([part("request", job({ file: "face" })), part("face", this.fx.notAnImage, "face.png", "image/png"), end]);
        break;
      case "bad-json-part":
        body = Buffer.concat([part("request", r.pick(BAD_JSON)), part("face", face, "face.png", "image/png"), end]);
        break;
      case "missing-file-part":
        body = Buffer.concat([part("request", job({ file: "nope" })), end]);
        break;
      case "many-parts":
        body = Buffer.concat([
          part("request", job({ file: "p0" })),
          ...Array.from({ length: 300 }, (_, i) => part(`p${i}`, Buffer.from([0x89, 0x50, 0x4e, 0x47]), `p${i}.png`, "image/png")),
          end,
        ]);
        break;
      case "duplicate-names":
        body = Buffer.concat([
          part("request", job({ file: "face" })),
          part("request", job({ file: "face" })),
          part("face", face, "a.png", "image/png"),
          part("face", face, "b.png", "image/png"),
          end,
        ]);
        break;
      case "traversal-filename":
        body = Buffer.concat([
          part("request", job({ file: "../../etc/passwd" })),
          part("../../etc/passwd", face, "../../etc/passwd", "image/png"),
          end,
        ]);
        break;
      case "empty":
        body = Buffer.alloc(0);
        break;
      default:
        body = Buffer.concat([part("request", job({ file: "face" })), part("face", face, "face.png", "image/png"), end]);
    }
    return {
      kind: "multipart",
      note: variant,
      request: { method: "POST", target: "/v1/jobs", headers: [...this.auth("/v1/jobs", r), ["content-type", type]], body },
    };
  }

  private hostileHeaders(r: Random): FuzzCase {
    const op = this.pickOperation(r, (o) => o.template !== "/v1/jobs/{id}/events" || r.chance(0.3));
    const base = this.valid(r, op).request;
    const key = this.keyFor(op.template, r);
    const headers = base.headers.filter(([k]) => k !== "authorization");
    const variant = r.weighted<string>([
      [6, "authorization"],
      [3, "idempotency-key"],
      [3, "request-id"],
      [2, "huge"],
      [2, "duplicated"],
      [2, "misc"],
    ]);
    let note = variant;
    if (variant === "authorization") {
      const forms: Array<string | null> = [
        null,
        "",
        "Bearer",
        "Bearer ",
        `Basic ${Buffer.from("user:pass").toString("base64")}`,
        "Bearer ek_test_short",
        `Bearer ${key} extra`,
        `bearer ${key}`,
        `Bearer  ${key}`,
        `Token ${key}`,
        key,
        `Bearer ek_live_${"A".repeat(32)}`,
        `Bearer ${this.fx.revokedKey}`,
        `Bearer ${this.fx.readOnlyKey}`,
        `Bearer ${this.fx.otherKey}`,
        `Bearer ${key.toUpperCase()}`,
        `Bearer ${key}\t`,
        `Bearer ${"a".repeat(20_000)}`,
        `Bearer ${key.slice(0, -1)}é`,
        "Bearer null",
        "Bearer undefined",
        `Bearer ${key},Bearer ${key}`,
      ];
      const form = r.pick(forms);
      note = `authorization ${form === null ? "(none)" : form.slice(0, 40)}`;
      if (form !== null) headers.push(["authorization", form]);
    } else if (variant === "idempotency-key") {
      const value = r.pick([
        "",
        " ",
        "a".repeat(256),
        "a".repeat(255),
        "é",
        "\t",
        "key with spaces",
        "../../x",
        "fuzz-idem-" + r.int(0, 20),
        "%00",
        "k".repeat(8000),
      ]);
      note = `idempotency-key ${JSON.stringify(value.slice(0, 30))}`;
      headers.push(["authorization", `Bearer ${key}`], ["idempotency-key", value]);
    } else if (variant === "request-id") {
      const value = r.pick([
        "fuzz-req-" + r.int(100000, 999999),
        "short",
        "a".repeat(65),
        "<script>",
        "req id",
        "é",
        "",
        "../../etc",
        "req_" + "0".repeat(26),
        "x\ty",
      ]);
      note = `x-request-id ${JSON.stringify(value.slice(0, 30))}`;
      headers.push(["authorization", `Bearer ${key}`], ["x-request-id", value]);
    } else if (variant === "huge") {
      const size = r.pick([8 * 1024, 32 * 1024, 100 * 1024]);
      note = `a ${size}-byte header`;
      headers.push(["authorization", `Bearer ${key}`], [r.pick(["x-filler", "cookie", "user-agent", "referer"]), "v".repeat(size)]);
    } else if (variant === "duplicated") {
      // Two Content-Length headers never reach the worker: workerd's HTTP parser fails the request itself (see RELIABILITY.md).
      const name = r.pick(["authorization", "content-type", "idempotency-key", "x-request-id"]);
      note = `two ${name} headers`;
      headers.push(["authorization", `Bearer ${key}`]);
      if (name === "authorization") headers.push(["authorization", `Bearer ${this.fx.otherKey}`]);
      else if (name === "content-type") headers.push(["content-type", "text/plain"]);
      else if (name === "idempotency-key") headers.push(["idempotency-key", "a"], ["idempotency-key", "b"]);
      else headers.push(["x-request-id", "fuzz-dup-aaaaaa"], ["x-request-id", "fuzz-dup-bbbbbb"]);
    } else {
      const extra = r.pick<Array<[string, string]>>([
        [["host", "evil.invalid"]],
        [["x-forwarded-for", "127.0.0.1, 10.0.0.1"]],
        [["origin", "https://evil.invalid"]],
        [["accept", "application/xml"]],
        [["content-encoding", "gzip"]],
        [["content-encoding", "br"]],
        [["accept-encoding", "gzip;q=abc"]],
        [["range", "bytes=0-1,2-3"]],
        [["expect", "something"]],
        Array.from({ length: 200 }, (_, i) => [`x-many-${i}`, String(i)] as [string, string]),
        [["last-event-id", "-1e9"]],
        [["last-event-id", "99999999999999999999"]],
        [
          ["origin", "null"],
          ["access-control-request-method", "DELETE"],
        ],
      ]);
      note = extra
        .slice(0, 2)
        .map(([k, v]) => `${k}: ${v.slice(0, 20)}`)
        .join(", ");
      headers.push(["authorization", `Bearer ${key}`], ...extra);
    }
    return { kind: "headers", note, request: { ...base, headers } };
  }

  private oddPath(r: Random): FuzzCase {
    if (r.chance(0.25)) {
      const target = r.pick(ODD_PATHS);
      return {
        kind: "odd-path",
        note: target,
        request: { method: r.pick(["GET", "POST", "DELETE"]), target, headers: this.auth(target, r) },
      };
    }
    const op = this.pickOperation(r, (o) => o.template.includes("{"));
    const odd = () =>
      r.chance(0.15)
        ? r.pick([this.fx.otherOwnerJobId, this.fx.uploadId, this.fx.jobId.toUpperCase(), `${this.fx.jobId}%00`])
        : r.pick(ODD_IDS);
    const target = this.fill(op.template, r, op.method)
      .split("/")
      .map((seg, i) =>
        op.template.split("/")[i]?.startsWith("{") && r.chance(0.7)
          ? op.template.split("/")[i] === "{index}"
            ? r.pick(ODD_INDEXES)
            : odd()
          : seg,
      )
      .join("/");
    const base = this.valid(r, op).request;
    return { kind: "odd-path", note: target.slice(0, 120), request: { ...base, target } };
  }

  private wrongMethod(r: Random): FuzzCase {
    const template = r.pick([...new Set(this.operations.map((o) => o.template))]);
    const allowed = new Set(this.operations.filter((o) => o.template === template).map((o) => o.method));
    // CONNECT and unregistered method names never reach the worker: workerd answers them itself (see RELIABILITY.md).
    const method = r.pick(METHODS.filter((m) => !allowed.has(m)));
    const headers = this.auth(template, r);
    const body = r.chance(0.5) ? Buffer.from(JSON.stringify(this.validBody(template, r))) : undefined;
    if (body) headers.push(["content-type", "application/json"]);
    return {
      kind: "wrong-method",
      note: `${method} ${template}`,
      request: { method, target: this.fill(template, r, method), headers, ...(body ? { body } : {}) },
    };
  }

  private query(r: Random): FuzzCase {
    const target = r.weighted<() => string>([
      [
        5,
        () =>
          `/v1/jobs?${r.pick([
            "limit=-1",
            "limit=0",
            "limit=101",
            "limit=abc",
            "limit=1.5",
            "limit=1e2",
            "limit=",
            "limit=1&limit=2",
            "status=bogus",
            "status[]=queued",
            "status=QUEUED",
            `cursor=${r.pick(["garbage", "W10=", "WzEsMl0=", "%ZZ", "a".repeat(201), Buffer.from('["x"]').toString("base64"), Buffer.from("[null,null]").toString("base64"), "e30="])}`,
            "updated_after=yesterday",
            "created_after=2026-13-45T99:99:99Z",
            "updated_after=2026-11-26T10:00:00+02:00",
            `model=${"m".repeat(200)}`,
            "unknown=1",
            "limit=%00",
            "status=succeeded&limit=5",
          ])}`,
      ],
      [
        2,
        () =>
          `/v1/admin/keys?${r.pick(["owner_id=" + "o".repeat(100), "owner_id=", "owner_id=%00", "owner_id=a&owner_id=b", "owner_id=%27%20OR%201%3D1%20--"])}`,
      ],
      [
        2,
        () =>
          `${this.fill(this.pickOperation(r, (o) => o.method === "GET").template, r)}?${r.pick(["after=-5", "after=abc", "x=%ZZ", "a".repeat(4000) + "=1", "limit=5", "__proto__[x]=1"])}`,
      ],
    ])();
    return { kind: "query", note: target.slice(0, 120), request: { method: "GET", target, headers: this.auth(target, r) } };
  }

  /** A well-formed request for the operation: the baseline the other kinds break. */
  valid(r: Random, op: DocOperation): FuzzCase {
    const headers = this.auth(op.template, r);
    const target = this.fill(op.template, r, op.method);
    if (op.template === "/v1/jobs" && op.method === "POST" && r.chance(0.3)) return this.multipartValid(r);
    if ("application/json" in op.requestSchemas) {
      return {
        kind: "valid",
        note: `${op.method} ${op.template}`,
        request: this.jsonRequest(op.method, target, JSON.stringify(this.validBody(op.template, r)), headers),
      };
    }
    return { kind: "valid", note: `${op.method} ${op.template}`, request: { method: op.method, target, headers } };
  }

  private multipartValid(r: Random): FuzzCase {
    return { ...this.multipart(r, "valid"), kind: "valid" };
  }
}
