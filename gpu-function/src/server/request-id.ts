import { randomBytes } from "node:crypto";

/** The edge's ids are short tokens; anything else is replaced so it cannot forge log fields or headers. */
const ACCEPTABLE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The dispatch's x-request-id when it is a sane token, else a fresh one (logged and echoed just the same). */
export function requestIdFrom(header: string | undefined): string {
  return header && ACCEPTABLE.test(header) ? header : `req_gpu_${randomBytes(12).toString("hex")}`;
}
