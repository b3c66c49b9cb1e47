/** Distinct statuses so scripts can tell a typo from a refusal from a failed generation. */
export const EXIT = {
  ok: 0,
  /** The API could not be reached, or answered something unexpected. */
  unexpected: 1,
  /** Bad command line: nothing was sent. */
  usage: 2,
  /** The API refused the request (a problem+json answer). */
  apiError: 3,
  /** The job ended failed, canceled or aborted. */
  jobFailed: 4,
  /** --timeout passed before the job finished (it keeps running). */
  timeout: 5,
  /** Ctrl-C (128 + SIGINT). */
  interrupted: 130,
} as const;

/** A mistake on the command line; its message is printed with a pointer to --help. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
