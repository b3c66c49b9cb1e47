import { sleep } from "../../e2e/support/net.js";
import { groupAlive, killGroup } from "../../e2e/support/processes.js";
import { currentGpuPid, startGpuFunction, type StackInfo } from "../../e2e/support/stack.js";
import type { Rng } from "./rng.js";

/** One SIGKILL of the GPU-function process group and its restart on the same port. */
export interface GpuKill {
  /** ms since the chaos started. */
  atMs: number;
  pid: number;
  /** Jobs the GPU function reported in flight just before the kill (-1: it did not answer). */
  inFlight: number;
  /** From the kill until the new process had loaded its model. */
  restartMs: number;
}

export interface GpuChaosOptions {
  kills: number;
  /** After a restart, jobs run undisturbed for a random time in this range (ms) ... */
  quietMs: [number, number];
  /** ... then, once a job is in flight, the kill lands a random time in this range later (ms), at any stage of that job or of the next one. */
  strikeMs: [number, number];
  gpuEnv?: Record<string, string>;
}

/**
 * Kills the stack's GPU function (SIGKILL to its process group: no callback, no
 * graceful stop; the edge only notices that reports stop) at seeded random points and
 * restarts it on the same port, so the edge's pool URL stays valid.
 */
export class GpuChaos {
  readonly kills: GpuKill[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly started = Date.now();

  constructor(
    private readonly stack: StackInfo,
    private readonly rng: Rng,
    private readonly options: GpuChaosOptions,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  /** Stops before the next kill; a restart under way is awaited, so the GPU function is up afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Resolves when the planned kills are done (or the chaos was stopped). */
  async finished(): Promise<void> {
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped && this.kills.length < this.options.kills) {
      await this.pause(this.rng.between(...this.options.quietMs));
      // Wait for work, so that most kills hit a job; the strike delay then picks the point within it.
      await this.untilJobInFlight();
      await this.pause(this.rng.between(...this.options.strikeMs));
      // A job that ended before the strike leaves an idle process, whose death tests nothing:
      // the kill then lands as soon as the next job starts, so every kill meets a job.
      await this.untilJobInFlight();
      if (this.stopped) return;
      await this.killAndRestart();
    }
  }

  private async untilJobInFlight(): Promise<void> {
    while (!this.stopped && (await this.inFlight()) < 1) await sleep(50);
  }

  private async pause(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.stopped && Date.now() < until) await sleep(Math.min(100, until - Date.now()));
  }

  private async inFlight(): Promise<number> {
    try {
      const r = await fetch(`${this.stack.gpuUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return ((await r.json()) as { in_flight?: number }).in_flight ?? -1;
    } catch {
      return -1;
    }
  }

  private async killAndRestart(): Promise<void> {
    const { stateDir, gpuPort, dispatchToken } = this.stack;
    const pid = currentGpuPid(stateDir);
    const inFlight = await this.inFlight();
    const killedAt = Date.now();
    killGroup(pid, "SIGKILL");
    while (groupAlive(pid)) await sleep(50);
    await startGpuFunction(stateDir, gpuPort, dispatchToken, this.options.gpuEnv);
    const kill = { atMs: killedAt - this.started, pid, inFlight, restartMs: Date.now() - killedAt };
    this.kills.push(kill);
    console.log(
      `gpu-chaos: kill ${this.kills.length}/${this.options.kills} of pid ${pid} at ${(kill.atMs / 1000).toFixed(1)} s (${inFlight} in flight), back after ${(kill.restartMs / 1000).toFixed(1)} s`,
    );
  }
}
