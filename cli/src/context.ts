import type { EcomidClient } from "@ecomid/shared/sdk";
import type { ProgressStream } from "./progress.js";

/** What every command gets: the client, the output streams and Ctrl-C. */
export interface CommandContext {
  client: EcomidClient;
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
  /** aborted on Ctrl-C */
  signal: AbortSignal;
  json: boolean;
  /** ECOMID_MODEL, used when generate has no --model */
  defaultModel: string | undefined;
}
