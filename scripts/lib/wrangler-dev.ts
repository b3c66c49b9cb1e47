/**
 * The arguments after `wrangler` of `wrangler dev` as every script here runs it: the real workerd with local
 * bindings, on 127.0.0.1 only, state kept in `persistTo`, and `vars` as --var (which beat
 * .dev.vars, so a developer's own secrets never leak into a run).
 */
export function wranglerDevArgs(o: { port: number; persistTo: string; vars?: Record<string, string>; extra?: string[] }): string[] {
  return [
    "dev",
    "--local",
    "--ip",
    "127.0.0.1",
    "--port",
    String(o.port),
    "--show-interactive-dev-session=false",
    "--persist-to",
    o.persistTo,
    ...Object.entries(o.vars ?? {}).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ...(o.extra ?? []),
  ];
}

/** Polls `url` every 250 ms until it answers 2xx; throws after a minute, naming `what`. */
export async function waitUntilAnswering(url: string, what: string): Promise<void> {
  for (let attempt = 0; attempt <= 240; attempt++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // still starting
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not start`);
}
