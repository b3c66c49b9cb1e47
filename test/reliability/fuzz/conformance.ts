import { SchemaValidator, type Schema } from "./json-schema.js";

/** What came back for one request, as the checks need it. */
export interface Observed {
  method: string;
  /** The request path as sent, without the query. */
  path: string;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The X-Request-Id the client sent, when it was a well-formed one the edge should echo. */
  echoedRequestId?: string;
}

interface MediaType {
  schema?: Schema;
}
interface ResponseSpec {
  content?: Record<string, MediaType>;
}
interface OperationSpec {
  responses: Record<string, ResponseSpec>;
}
export interface OpenApiDoc {
  paths: Record<string, Record<string, OperationSpec>>;
  components: { schemas: Record<string, Schema> };
}

const HTTP_METHODS = ["get", "post", "put", "patch", "delete", "head", "options", "trace"];

/**
 * Judges responses against the served OpenAPI document and the API's error contract:
 * no 5xx; every refusal is application/problem+json with a known code and the request
 * id; a documented operation answers only with a declared status, content type and
 * a body valid against the declared schema.
 */
export class ConformanceChecker {
  private readonly validator: SchemaValidator;
  private readonly templates: Array<{ template: string; parts: string[] }>;

  constructor(
    readonly doc: OpenApiDoc,
    private readonly errorCodes: ReadonlySet<string>,
  ) {
    this.validator = new SchemaValidator(doc as unknown as Record<string, unknown>);
    this.templates = Object.keys(doc.paths).map((template) => ({ template, parts: template.split("/") }));
  }

  /** The documented operation a request reaches, if any. */
  operationFor(method: string, path: string): { template: string; op: OperationSpec } | undefined {
    const m = method.toLowerCase();
    if (!HTTP_METHODS.includes(m)) return undefined;
    const parts = path.split("/");
    for (const { template, parts: tparts } of this.templates) {
      if (tparts.length !== parts.length) continue;
      const same = tparts.every((t, i) => (t.startsWith("{") ? parts[i]!.length > 0 : t === parts[i]));
      const op = this.doc.paths[template]?.[m];
      if (same && op) return { template, op };
    }
    return undefined;
  }

  check(o: Observed): string[] {
    const problems: string[] = [];
    const requestId = o.headers["x-request-id"];
    if (o.status >= 500) problems.push(`server error ${o.status}: ${JSON.stringify(o.body.toString("utf8").slice(0, 160))}`);
    if (!requestId) problems.push("no X-Request-Id header");
    else if (o.echoedRequestId && requestId !== o.echoedRequestId)
      problems.push(`X-Request-Id ${requestId} is not the one sent (${o.echoedRequestId})`);
    const type = (o.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (o.status >= 400) problems.push(...this.checkProblem(o, type, requestId));
    const found = this.operationFor(o.method, o.path);
    if (found) problems.push(...this.checkDeclared(o, type, found.template, found.op));
    return problems;
  }

  private checkProblem(o: Observed, type: string, requestId: string | undefined): string[] {
    if (type !== "application/problem+json")
      return [`refusal ${o.status} has content-type "${o.headers["content-type"] ?? ""}", not application/problem+json`];
    if (o.method === "HEAD") return [];
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(o.body.toString("utf8")) as Record<string, unknown>;
    } catch {
      return [`refusal ${o.status} body is not JSON: ${o.body.toString("utf8").slice(0, 120)}`];
    }
    const out: string[] = [];
    if (typeof body.code !== "string" || !this.errorCodes.has(body.code))
      out.push(`refusal code ${JSON.stringify(body.code)} is not in ErrorCode`);
    if (body.request_id !== requestId)
      out.push(`refusal request_id ${JSON.stringify(body.request_id)} differs from the header ${requestId}`);
    if (body.status !== o.status) out.push(`refusal body status ${JSON.stringify(body.status)} differs from the HTTP status ${o.status}`);
    out.push(...this.validator.validate(body, { $ref: "#/components/schemas/Problem" }).map((p) => `problem body: ${p}`));
    return out;
  }

  private checkDeclared(o: Observed, type: string, template: string, op: OperationSpec): string[] {
    const where = `${o.method} ${template}`;
    const spec = op.responses[String(o.status)] ?? op.responses.default;
    if (!spec) return [`${where}: status ${o.status} is not declared (declared: ${Object.keys(op.responses).join(", ")})`];
    if (!spec.content) return o.body.length > 0 && o.method !== "HEAD" ? [`${where} ${o.status}: a body where none is declared`] : [];
    const media = spec.content[type];
    if (!media) return [`${where} ${o.status}: content-type "${type}" is not declared (declared: ${Object.keys(spec.content).join(", ")})`];
    if (!media.schema || o.method === "HEAD") return [];
    const text = o.body.toString("utf8");
    if (type === "text/event-stream") return this.checkEventStream(text, media.schema).map((p) => `${where} ${o.status}: ${p}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [`${where} ${o.status}: body is not JSON: ${text.slice(0, 120)}`];
    }
    return this.validator.validate(body, media.schema).map((p) => `${where} ${o.status}: ${p}`);
  }

  /**
   * Each complete `data:` line of the stream must be a valid event: the schema describes
   * one frame, whose `data` is JSON of its `contentSchema`.
   */
  private checkEventStream(text: string, frame: Schema): string[] {
    const schema = ((frame as { properties?: { data?: { contentSchema?: Schema } } }).properties?.data?.contentSchema ?? frame) as Schema;
    const out: string[] = [];
    const complete = text.slice(0, text.lastIndexOf("\n\n") + 1);
    for (const line of complete.split("\n")) {
      if (!line.startsWith("data:")) continue;
      try {
        out.push(...this.validator.validate(JSON.parse(line.slice(5)), schema).map((p) => `event ${p}`));
      } catch {
        out.push(`event data is not JSON: ${line.slice(0, 120)}`);
      }
    }
    return out;
  }
}
