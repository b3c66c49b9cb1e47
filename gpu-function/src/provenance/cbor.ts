import { concatBytes } from "./bytes.js";

/**
 * The subset of CBOR (RFC 8949) a COSE_Sign1 needs: integers, byte and text strings, arrays, maps, null and tags.
 * Deterministic by construction: the shortest head for every length, map entries in the order given.
 */
export type CborValue = number | string | Uint8Array | null | readonly CborValue[] | CborMap | CborTagged;

/** A map whose keys keep their type (COSE header labels are integers, "pad" is text). */
export class CborMap {
  constructor(readonly entries: readonly (readonly [number | string, CborValue])[]) {}
}

export class CborTagged {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

const MAJOR_UNSIGNED = 0;
const MAJOR_NEGATIVE = 1;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;
const MAJOR_TAG = 6;
const SIMPLE_NULL = 0xf6;

/** RFC 8949 §3: arguments below 24 live in the initial byte; then 1, 2 or 4 following bytes. */
function head(major: number, argument: number): Uint8Array {
  if (!Number.isSafeInteger(argument) || argument < 0 || argument > 0xffffffff) {
    throw new RangeError(`CBOR argument out of the supported range: ${argument}`);
  }
  const initial = major << 5;
  if (argument < 24) return Uint8Array.of(initial | argument);
  if (argument <= 0xff) return Uint8Array.of(initial | 24, argument);
  if (argument <= 0xffff) return Uint8Array.of(initial | 25, argument >> 8, argument & 0xff);
  const out = new Uint8Array(5);
  out[0] = initial | 26;
  new DataView(out.buffer).setUint32(1, argument);
  return out;
}

/** Bytes taken by the head of a string or container of this length (used to size the COSE padding). */
export function headLength(argument: number): number {
  return head(MAJOR_BYTES, argument).length;
}

export function encodeCbor(value: CborValue): Uint8Array {
  const parts: Uint8Array[] = [];
  const write = (item: CborValue): void => {
    if (item === null) {
      parts.push(Uint8Array.of(SIMPLE_NULL));
    } else if (typeof item === "number") {
      // RFC 8949 §3.1: a negative integer n is encoded as major type 1 with argument -1 - n.
      parts.push(item >= 0 ? head(MAJOR_UNSIGNED, item) : head(MAJOR_NEGATIVE, -1 - item));
    } else if (typeof item === "string") {
      const utf8 = new TextEncoder().encode(item);
      parts.push(head(MAJOR_TEXT, utf8.length), utf8);
    } else if (item instanceof Uint8Array) {
      parts.push(head(MAJOR_BYTES, item.length), item);
    } else if (item instanceof CborMap) {
      parts.push(head(MAJOR_MAP, item.entries.length));
      for (const [key, entry] of item.entries) {
        write(key);
        write(entry);
      }
    } else if (item instanceof CborTagged) {
      parts.push(head(MAJOR_TAG, item.tag));
      write(item.value);
    } else {
      parts.push(head(MAJOR_ARRAY, item.length));
      for (const element of item) write(element);
    }
  };
  write(value);
  return concatBytes(parts);
}
