import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/**
 * The real GPU-function process on the tiny bundle, with its JSON log lines collected and
 * its exit awaited: the TypeScript source under tsx, or the built server (BUILT_SERVER, after `npm run build`).
 */
export const SERVICE_TOKEN = "gpu-test-dispatch-token-0123";
export const SOURCE_SERVER = ["--import", "tsx", "gpu-function/src/server/main.ts"];
export const BUILT_SERVER = ["gpu-function/dist/server.js"];

export type LogLine = Record<string, unknown> & { level: string; msg: string };

export class GpuService {
  readonly logs: LogLine[] = [];
  readonly url: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly process: ChildProcess;

  constructor(env: Record<string, string> = {}, nodeArgs: string[] = SOURCE_SERVER, cwd = process.cwd()) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    this.url = `http://127.0.0.1:${port}`;
    this.process = spawn("node", nodeArgs, {
      env: {
        ...process.env,
        PORT: String(port),
        BUNDLE_DIR: "bundles/tiny",
        EXECUTION_PROVIDER: "cpu",
        GPU_DISPATCH_TOKEN: SERVICE_TOKEN,
        HEARTBEAT_SECONDS: "1",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
      cwd,
    });
    for (const stream of [this.process.stdout!, this.process.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ level: "raw", msg: line });
        }
      });
    }
    this.exited = new Promise((resolve) => this.process.once("exit", (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.process.pid!;
  }

  async ready(timeoutMs = 120_000): Promise<this> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (this.process.exitCode !== null) throw new Error(`the GPU function exited: ${JSON.stringify(this.logs.slice(-5))}`);
      try {
        // With the dispatch token, /health says why a bundle failed to load.
        const h = (await (await fetch(`${this.url}/health`, { headers: { authorization: `Bearer ${SERVICE_TOKEN}` } })).json()) as {
          model_ready: boolean;
          error: string | null;
        };
        if (h.model_ready) return this;
        if (h.error) throw new Error(h.error);
      } catch (e) {
        if (e instanceof Error && !/fetch failed|ECONNREFUSED/.test(e.message)) throw e;
      }
      if (Date.now() > until) throw new Error("the GPU function did not become ready");
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  dispatch(request: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${this.url}/v1/jobs`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${SERVICE_TOKEN}`, ...headers },
      body: JSON.stringify(request),
    });
  }

  signal(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }

  /** The inference child process(es) forked by this service. */
  children(): number[] {
    try {
      return execFileSync("ps", ["-o", "pid=", "--ppid", String(this.pid)], { encoding: "utf8" })
        .split("\n")
        .filter((l) => l.trim())
        .map(Number);
    } catch {
      return []; // ps exits 1 when nothing matches
    }
  }

  /** Stops it if a test left it running. */
  kill(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) {
      for (const child of this.children()) process.kill(child, "SIGKILL");
      this.process.kill("SIGKILL");
    }
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
