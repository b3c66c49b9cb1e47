/**
 * Counts a benchmark's failed requests by HTTP status and problem `code` (or by the
 * network error), so a run's report says what went wrong, not only how often. A run
 * with any entry here is a failed run.
 */
export class ErrorTally {
  private readonly counts = new Map<string, number>();

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** An answer with an unexpected status; `body` is read for an application/problem+json `code`. */
  recordResponse(status: number, body: string): void {
    this.add(`${status} ${problemCode(body) ?? "(no problem code)"}`);
  }

  recordNetworkError(error: unknown): void {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : null;
    this.add(`network error: ${cause ?? (error instanceof Error ? error.message : String(error))}`);
  }

  /** A failure that is not one answer, e.g. a job that ended other than succeeded. */
  recordOther(what: string): void {
    this.add(what);
  }

  /** Most frequent first: "500 internal_error: 139". */
  lines(): string[] {
    return [...this.counts].sort((a, b) => b[1] - a[1]).map(([what, n]) => `${what}: ${n}`);
  }

  merge(other: ErrorTally): void {
    for (const [what, n] of other.counts) this.add(what, n);
  }

  private add(what: string, n = 1): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + n);
  }
}

function problemCode(body: string): string | null {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}
