import type { Schema } from "./json-schema.js";
import type { Random } from "./random.js";

/**
 * Schema-aware mutation: a valid body is changed at a point the schema describes, with
 * a value chosen to break exactly one of its rules (a bound, a length, an enum, a
 * type, a required field, no extra fields), or with a generally hostile value.
 */
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/**
 * URLs the edge must refuse before fetching, or may fetch only on loopback (the test
 * stack allows loopback http): the fuzzer never makes the edge reach another host.
 */
export const HOSTILE_URLS = [
  "http://127.0.0.1:9/x.png",
  "http://localhost:1/",
  "https://10.0.0.1/x.png",
  "https://169.254.169.254/latest/meta-data/",
  "https://[::1]/x.png",
  "https://[::ffff:127.0.0.1]/a",
  "https://user:pass@images.invalid/x.png",
  "https://images.invalid/x.png",
  "https://host.test/../../etc/passwd",
  "https://intranet/x.png",
  "file:///etc/passwd",
  "javascript:alert(1)",
  "data:image/png;base64,AAAA",
  "ftp://images.invalid/x.png",
  "http://0x7f000001/",
  "https://%00.invalid/",
  "",
  "not a url",
];

export const WEIRD_VALUES: Json[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0.000001,
  1e308,
  -1e308,
  2 ** 53 + 2,
  4294967296,
  "",
  " ",
  "\u0000",
  "☃💥",
  "x".repeat(3000),
  "../../etc/passwd",
  "%00",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "NaN",
  "Infinity",
  "1e999",
  [],
  [null],
  {},
  { "": "" },
  JSON.parse('{"__proto__":{"polluted":true}}') as Json,
  { constructor: { prototype: { x: 1 } } },
  [[[[[[[[[]]]]]]]]],
];

export class Mutator {
  constructor(
    private readonly doc: Record<string, unknown>,
    private readonly rng: Random,
  ) {}

  private resolve(schema: Schema | undefined): Record<string, unknown> {
    let s = schema;
    for (let i = 0; i < 10 && s && typeof s === "object" && typeof s.$ref === "string"; i++) {
      let node: unknown = this.doc;
      for (const part of (s.$ref as string).slice(2).split("/")) node = (node as Record<string, unknown>)[part];
      s = node as Schema;
    }
    return s && typeof s === "object" ? s : {};
  }

  /** The schema one level down, through anyOf/oneOf (the branch that fits the value when it can). */
  private child(schema: Record<string, unknown>, key: string | number, value: unknown): Record<string, unknown> {
    const branches = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
    if (branches) {
      const fits = branches
        .map((b) => this.resolve(b))
        .filter((b) => b.type === undefined || (b.type === "object") === (typeof value === "object" && !Array.isArray(value)));
      const withKey = fits.find((b) => b.properties && Object.hasOwn(b.properties as object, String(key)));
      return this.child(withKey ?? this.resolve(this.rng.pick(branches)), key, value);
    }
    if (typeof key === "number") {
      const prefix = schema.prefixItems as Schema[] | undefined;
      return this.resolve(prefix?.[key] ?? (schema.items as Schema | undefined));
    }
    const props = schema.properties as Record<string, Schema> | undefined;
    return this.resolve(props?.[key] ?? (schema.additionalProperties as Schema | undefined));
  }

  /** Applies `count` mutations, each at a random depth of the body. */
  mutate(body: Json, schema: Schema, count: number): { body: Json; notes: string[] } {
    let current: Json = structuredClone(body);
    const notes: string[] = [];
    for (let i = 0; i < count; i++) {
      const r = this.at(current, this.resolve(schema), "");
      current = r.value;
      notes.push(r.note);
    }
    return { body: current, notes };
  }

  private at(value: Json, schema: Record<string, unknown>, pointer: string): { value: Json; note: string } {
    const container = value !== null && typeof value === "object";
    if (container && this.rng.chance(0.65)) {
      const keys: Array<string | number> = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
      const declared = Object.keys((schema.properties as object | undefined) ?? {});
      const key = Array.isArray(value)
        ? this.rng.pick(keys.length ? keys : [0])
        : this.rng.pick([...new Set([...keys, ...declared])].length ? [...new Set([...keys, ...declared])] : ["x"]);
      const copy = (Array.isArray(value) ? [...value] : { ...value }) as Record<string | number, Json>;
      const inner = this.at(copy[key] ?? null, this.child(schema, key, copy[key]), `${pointer}/${key}`);
      copy[key] = inner.value;
      return { value: copy as Json, note: inner.note };
    }
    return this.breakValue(value, schema, pointer);
  }

  /** One rule-breaking change of this value. */
  private breakValue(value: Json, schema: Record<string, unknown>, pointer: string): { value: Json; note: string } {
    const r = this.rng;
    const options: Array<[number, () => { value: Json; note: string }]> = [
      [2, () => ({ value: r.pick(WEIRD_VALUES), note: `${pointer}: hostile value` })],
      [1, () => ({ value: wrongType(value, r), note: `${pointer}: wrong type` })],
    ];
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    if (typeof schema.minimum === "number")
      options.push([2, () => ({ value: (schema.minimum as number) - r.pick([1, 0.5, 1e-9, 1e9]), note: `${pointer}: below minimum` })]);
    if (typeof schema.maximum === "number")
      options.push([2, () => ({ value: (schema.maximum as number) + r.pick([1, 0.5, 1e-9, 1e9]), note: `${pointer}: above maximum` })]);
    if (type === "integer") options.push([1, () => ({ value: r.pick([0.5, 1.25, 63.999, 2 ** 64]), note: `${pointer}: not an integer` })]);
    if (typeof schema.maxLength === "number")
      options.push([2, () => ({ value: "é".repeat((schema.maxLength as number) + 1), note: `${pointer}: too long` })]);
    if (typeof schema.minLength === "number" && (schema.minLength as number) > 0)
      options.push([1, () => ({ value: "", note: `${pointer}: too short` })]);
    if (schema.pattern)
      options.push([
        1,
        () => ({ value: r.pick(["upl_", "upl_" + "A".repeat(26), "../upl_x", "UPPER CASE", "a"]), note: `${pointer}: breaks the pattern` }),
      ]);
    if (schema.enum || schema.const !== undefined)
      options.push([
        2,
        () => ({ value: r.pick(["", "EULER", "not-a-member", "job.*", "admin ", 0]), note: `${pointer}: not in the enum` }),
      ]);
    if (schema.format === "uri" || /url/.test(pointer))
      options.push([3, () => ({ value: r.pick(HOSTILE_URLS), note: `${pointer}: hostile url` })]);
    if (type === "array" || Array.isArray(value)) {
      const arr = Array.isArray(value) ? value : [];
      if (typeof schema.maxItems === "number")
        options.push([
          2,
          () => ({
            value: Array.from({ length: (schema.maxItems as number) + 1 }, (_, i) => arr[i % Math.max(1, arr.length)] ?? null),
            note: `${pointer}: too many items`,
          }),
        ]);
      if (typeof schema.minItems === "number")
        options.push([2, () => ({ value: arr.slice(0, Math.max(0, (schema.minItems as number) - 1)), note: `${pointer}: too few items` })]);
      options.push([
        1,
        () => ({ value: Array.from({ length: r.pick([1000, 20000]) }, () => arr[0] ?? 0), note: `${pointer}: a huge array` }),
      ]);
    }
    if (type === "object" || (value !== null && typeof value === "object" && !Array.isArray(value))) {
      const obj = value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};
      const required = (schema.required as string[] | undefined) ?? [];
      if (required.length)
        options.push([
          3,
          () => {
            const k = r.pick(required);
            const { [k]: _, ...rest } = obj;
            return { value: rest, note: `${pointer}: missing ${k}` };
          },
        ]);
      options.push([
        2,
        () => ({
          value: { ...obj, [r.pick(["extra", "__proto__", "constructor", "x".repeat(200), "😀", ""])]: r.pick(WEIRD_VALUES) },
          note: `${pointer}: an extra field`,
        }),
      ]);
      options.push([
        1,
        () => ({ value: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, "v"])), note: `${pointer}: many fields` }),
      ]);
    }
    return r.weighted(options)();
  }
}

function wrongType(value: Json, r: Random): Json {
  if (typeof value === "number") return r.pick([String(value), [value], { value }, null, true]);
  if (typeof value === "string") return r.pick([value.length, [value], { value }, null, false]);
  if (typeof value === "boolean") return r.pick([String(value), 1, 0, null]);
  if (Array.isArray(value)) return r.pick([{ ...value }, JSON.stringify(value), value.length, null]);
  if (value && typeof value === "object") return r.pick([Object.values(value), JSON.stringify(value), 1, null]);
  return r.pick([{}, [], "null", 0]);
}
