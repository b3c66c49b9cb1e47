import { DurableObject } from "cloudflare:workers";

/**
 * One object per name. `touch(mode)`: "none" never touches ctx.storage (the runtime
 * still opens the database when it instantiates the object); "handle" only
 * takes ctx.storage.sql (which opens the object's SQLite database); "read" reads once
 * (what a job object's constructor does); "tables" creates the job object's two tables
 * and writes a 2 KB row (what its create() does).
 */
export class Probe extends DurableObject {
  touch(mode) {
    if (mode === "none") return true;
    const sql = this.ctx.storage.sql;
    if (mode === "read") sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'state'").toArray();
    if (mode === "tables") {
      sql.exec(
        "CREATE TABLE IF NOT EXISTS events (sequence INTEGER PRIMARY KEY, type TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL)",
      );
      sql.exec("CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
      sql.exec("INSERT OR REPLACE INTO state (name, value) VALUES ('stored', ?)", "x".repeat(2048));
    }
    return true;
  }
}

/** GET /?objects=N&mode=M: touches N new objects, 64 at a time, all within a few seconds (so none is evicted yet). */
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const objects = Number(url.searchParams.get("objects") ?? 100);
    const mode = url.searchParams.get("mode") ?? "tables";
    let touched = 0;
    let firstFailure = null;
    const failures = {};
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < objects) {
          const i = next++;
          try {
            await env.PROBES.get(env.PROBES.idFromName(`${mode}-${i}`)).touch(mode);
            touched++;
          } catch (e) {
            firstFailure ??= i;
            const what = String(e).replace(/reference = \w+/, "reference = ...");
            failures[what] = (failures[what] ?? 0) + 1;
          }
        }
      }),
    );
    return Response.json({ mode, objects, touched, firstFailure, failures });
  },
};
