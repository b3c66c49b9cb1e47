import { spawn } from "node:child_process";
import { appendFileSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Child processes of the e2e stack. Each one is spawned detached so it leads its own
 * process group: killing the group (-pid) also stops what it started (workerd under
 * wrangler, the inference child under the GPU function). Every PID is appended to a
 * file in the stack's state dir, so the global teardown can stop processes that a test
 * file started (a restarted GPU function) even when that test failed or its worker died.
 */
export const PID_FILE = "pids.txt";

export interface Started {
  pid: number;
  exited: Promise<number | null>;
}

export function startGroup(
  stateDir: string,
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Started {
  // Output goes to a log file, not the test's console: it stays readable when a test fails.
  const log = openSync(join(stateDir, `${name}.log`), "a");
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", log, log], detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  appendFileSync(join(stateDir, PID_FILE), `${child.pid}\n`);
  // The test process must not wait on the group before exiting; teardown stops it explicitly.
  child.unref();
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { pid: child.pid, exited };
}

/** Signals a whole process group; a group that is already gone is not an error. */
export function killGroup(pid: number, signal: NodeJS.Signals = "SIGTERM"): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops every group this stack started: SIGTERM, then SIGKILL for any still alive after a grace period. */
export async function stopAll(stateDir: string, graceMs = 3000): Promise<void> {
  const file = join(stateDir, PID_FILE);
  if (!existsSync(file)) return;
  const pids = readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number);
  for (const pid of pids) killGroup(pid, "SIGTERM");
  const until = Date.now() + graceMs;
  while (Date.now() < until && pids.some(groupAlive)) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(groupAlive)) killGroup(pid, "SIGKILL");
}
