const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

/**
 * A ULID-shaped id in lowercase Crockford base32 behind a type prefix:
 * 10 time characters (ms) then 16 random ones, so ids sort by creation time.
 */
export function newId(prefix: string, nowMs = Date.now()): string {
  let time = "";
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const random = crypto.getRandomValues(new Uint8Array(16));
  let rand = "";
  for (const b of random) rand += CROCKFORD[b % 32];
  return `${prefix}_${time}${rand}`;
}

export function base64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** The shape every job id has (newId("job")): checked before a job's Durable Object is touched. */
export const JOB_ID_PATTERN = /^job_[0-9a-z]{26}$/;
