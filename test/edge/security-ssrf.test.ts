import { afterEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../edge/src/errors.js";
import {
  assertOutboundUrl,
  classifyAddress,
  dohResolver,
  guardedFetch,
  outboundPolicy,
  parseIpv6,
  type HostResolver,
  type OutboundPolicy,
} from "../../edge/src/lib/ssrf.js";
import { api, completeJob, createKey, installPeer, multipartJob, pngOf, runDispatch, runWebhookDeliveries, tinyJob } from "./helpers.js";

const prod: OutboundPolicy = { allowLoopback: false };
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "resolved",
    (e: unknown) => (e instanceof AppError ? e.code : `not an AppError: ${String(e)}`),
  );
const freshOwner = () => `o${crypto.randomUUID().slice(0, 8)}`;

/** A resolver answering from a table, recording each name it was asked. */
function table(answers: Record<string, string[]>): HostResolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (name: string) => {
    asked.push(name);
    return answers[name] ?? [];
  };
  return Object.assign(resolve, { asked });
}

/** Replaces fetch: `routes` answers by host; every requested URL is recorded. */
function stubFetch(routes: Record<string, (req: Request) => Response | Promise<Response>>) {
  const requested: Request[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    requested.push(req);
    const route = routes[new URL(req.url).host];
    return route ? route(req) : new Response("no such host in this test", { status: 599 });
  });
  return { requested, hosts: () => requested.map((r) => new URL(r.url).host), restore: () => spy.mockRestore() };
}
let stub: ReturnType<typeof stubFetch> | null = null;
afterEach(() => {
  stub?.restore();
  stub = null;
});

describe("addresses", () => {
  it.each([
    "10.0.0.1",
    "127.0.0.1",
    "169.254.169.254",
    "100.64.1.1",
    "172.31.255.255",
    "192.168.1.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "198.18.0.1",
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:a9fe:a9fe",
    "0:0:0:0:0:ffff:10.0.0.1",
    "::127.0.0.1",
    "64:ff9b::a00:1",
    "2002:a00:1::1",
    "2001::1",
    "2001:db8::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "fec0::1",
    "ff02::1",
    "100::1",
    "not an address",
  ])("%s is not public", (address) => {
    expect(classifyAddress(address)).not.toBe("public");
  });

  it.each(["1.1.1.1", "8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "::ffff:8.8.8.8", "2002:808:808::1"])(
    "%s is public",
    (address) => {
      expect(classifyAddress(address)).toBe("public");
    },
  );

  it("parses IPv6 in every written form", () => {
    expect(parseIpv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6("1::")).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(parseIpv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const bad of ["1:2:3:4:5:6:7", "1::2::3", "12345::", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", ":1::"])
      expect(parseIpv6(bad), bad).toBeNull();
  });
});

describe("URLs as written", () => {
  it.each([
    // Decimal, octal, hex and shortened IPv4: the URL parser turns each into a dotted quad first.
    "https://2130706433/x",
    "https://0177.0.0.1/x",
    "https://0x7f000001/x",
    "https://0x7f.0.0.1/x",
    "https://127.1/x",
    "https://10.1/x",
    "https://0xa9fea9fe/latest/meta-data",
    "https://025177524776/x",
    "https://3232235777/x",
    // IPv6 spellings of inside addresses.
    "https://[::ffff:169.254.169.254]/x",
    "https://[::ffff:a9fe:a9fe]/x",
    "https://[0:0:0:0:0:ffff:7f00:1]/x",
    "https://[::127.0.0.1]/x",
    "https://[::]/x",
    "https://[0::1]/x",
    "https://[64:ff9b::10.0.0.1]/x",
    "https://[2002:c0a8:101::]/x",
    "https://[fd00:ec2::254]/x",
    "https://[fe80::a:b]/x",
    "https://[ff02::1]/x",
    // Names that can only be local, trailing-dot forms, other schemes.
    "https://localhost./x",
    "https://example.com./x",
    "https://metadata/x",
    "gopher://example.com/x",
    "file:///etc/passwd",
    "data:image/png;base64,AAAA",
  ])("refuses %s in production", (url) => {
    expect(() => assertOutboundUrl(url, prod)).toThrowError(AppError);
  });

  it("keeps plain http to loopback only for local development, and never for mapped loopback", () => {
    expect(assertOutboundUrl("http://127.0.0.1:9999/hook", { allowLoopback: true }).port).toBe("9999");
    expect(assertOutboundUrl("http://localhost:9999/hook", { allowLoopback: true }).hostname).toBe("localhost");
    expect(assertOutboundUrl("http://[::1]:9999/hook", { allowLoopback: true }).hostname).toBe("[::1]");
    expect(() => assertOutboundUrl("http://[::ffff:127.0.0.1]/hook", { allowLoopback: true })).toThrowError(AppError);
    expect(() => assertOutboundUrl("http://example.com/hook", { allowLoopback: true })).toThrowError(AppError);
    expect(() => assertOutboundUrl("http://127.0.0.1:9999/hook", prod)).toThrowError(AppError);
  });
});

describe("DNS check before every fetch", () => {
  const fetchOpts = (resolve: HostResolver, extra: Partial<Parameters<typeof guardedFetch>[1]> = {}) => ({
    policy: { ...prod, resolve },
    maxBytes: 1024,
    timeoutMs: 5000,
    maxRedirects: 3,
    ...extra,
  });

  it("refuses a hostname whose A or AAAA answers point inside, without fetching it", async () => {
    stub = stubFetch({ "evil.example.com": () => new Response("secret") });
    const cases: Record<string, string[]> = {
      "a.evil.example.com": ["10.0.0.5"],
      "b.evil.example.com": ["169.254.169.254"],
      "c.evil.example.com": ["93.184.216.34", "192.168.0.1"], // one inside answer spoils the name
      "d.evil.example.com": ["::1"],
      "e.evil.example.com": ["::ffff:10.0.0.1"],
      "f.evil.example.com": ["fd00::1"],
      "g.evil.example.com": ["127.0.0.1"],
    };
    const resolve = table(cases);
    for (const host of Object.keys(cases)) {
      expect(await codeOf(guardedFetch(`https://${host}/a.png`, fetchOpts(resolve))), host).toBe("url_not_allowed");
    }
    expect(resolve.asked).toEqual(Object.keys(cases));
    expect(stub.requested).toHaveLength(0);
  });

  it("fails closed when a name does not resolve or the resolver fails", async () => {
    stub = stubFetch({});
    expect(await codeOf(guardedFetch("https://nowhere.example.com/a.png", fetchOpts(table({}))))).toBe("input_fetch_failed");
    const broken: HostResolver = async () => {
      throw new Error("resolver down");
    };
    expect(await codeOf(guardedFetch("https://images.example.com/a.png", fetchOpts(broken)))).toBe("input_fetch_failed");
    expect(stub.requested).toHaveLength(0);
  });

  it("fetches a name whose every answer is public; loopback answers only in local development", async () => {
    stub = stubFetch({ "cdn.example.com": () => new Response("img"), "dev.example.com": () => new Response("dev") });
    const resolve = table({ "cdn.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"], "dev.example.com": ["127.0.0.1"] });
    const { body } = await guardedFetch("https://cdn.example.com/a.png", fetchOpts(resolve));
    expect(new TextDecoder().decode(body)).toBe("img");
    expect(await codeOf(guardedFetch("https://dev.example.com/a.png", fetchOpts(resolve)))).toBe("url_not_allowed");
    const local = await guardedFetch("https://dev.example.com/a.png", { ...fetchOpts(resolve), policy: { allowLoopback: true, resolve } });
    expect(new TextDecoder().decode(local.body)).toBe("dev");
  });

  it("re-checks every redirect hop: scheme, literal address and DNS", async () => {
    const redirect =
      (location: string, status = 302) =>
      () =>
        new Response(null, { status, headers: { location } });
    stub = stubFetch({
      "start.example.com": redirect("https://10.0.0.1/a.png"),
      "start2.example.com": redirect("https://inside.example.com/a.png", 301),
      "start3.example.com": redirect("http://cdn.example.com/a.png", 307),
      "start4.example.com": redirect("https://[::ffff:192.168.1.1]/a.png", 308),
      "start5.example.com": redirect("//inside.example.com/a.png", 303),
      "inside.example.com": () => new Response("internal"),
    });
    const resolve = table({
      "start.example.com": ["93.184.216.34"],
      "start2.example.com": ["93.184.216.34"],
      "start3.example.com": ["93.184.216.34"],
      "start4.example.com": ["93.184.216.34"],
      "start5.example.com": ["93.184.216.34"],
      "inside.example.com": ["10.1.2.3"],
    });
    for (const start of ["start", "start2", "start3", "start4", "start5"]) {
      expect(await codeOf(guardedFetch(`https://${start}.example.com/a.png`, fetchOpts(resolve))), start).toBe("url_not_allowed");
    }
    expect(stub.hosts()).not.toContain("inside.example.com");
    expect(stub.hosts()).not.toContain("10.0.0.1");
  });

  it("follows public redirects up to the hop limit, and drops the Authorization header across origins", async () => {
    let hops = 0;
    stub = stubFetch({
      "loop.example.com": () => new Response(null, { status: 302, headers: { location: `/hop${++hops}` } }),
      "a.example.com": () => new Response(null, { status: 302, headers: { location: "https://b.example.com/final" } }),
      "b.example.com": (req) => new Response(`auth=${req.headers.get("authorization") ?? "none"}`),
    });
    const resolve = table({
      "loop.example.com": ["93.184.216.34"],
      "a.example.com": ["93.184.216.34"],
      "b.example.com": ["93.184.216.35"],
    });
    expect(await codeOf(guardedFetch("https://loop.example.com/", fetchOpts(resolve, { maxRedirects: 2 })))).toBe("input_fetch_failed");
    expect(hops).toBe(3); // the first request and two followed redirects
    const { body } = await guardedFetch(
      "https://a.example.com/",
      fetchOpts(resolve, { init: { headers: { authorization: "Bearer abc" } } }),
    );
    expect(new TextDecoder().decode(body)).toBe("auth=none");
    expect(resolve.asked).toContain("b.example.com");
  });

  it("bounds the body size (declared or streamed) and the time", async () => {
    const endless = () =>
      new Response(
        new ReadableStream({
          pull(controller) {
            controller.enqueue(new Uint8Array(512));
          },
        }),
      );
    const stalled = () => new Response(new ReadableStream({ start() {} }));
    stub = stubFetch({
      "big.example.com": () => new Response("x".repeat(4096)),
      "endless.example.com": endless,
      "stalled.example.com": stalled,
    });
    const resolve = table({
      "big.example.com": ["93.184.216.34"],
      "endless.example.com": ["93.184.216.34"],
      "stalled.example.com": ["93.184.216.34"],
    });
    expect(await codeOf(guardedFetch("https://big.example.com/", fetchOpts(resolve)))).toBe("payload_too_large");
    expect(await codeOf(guardedFetch("https://endless.example.com/", fetchOpts(resolve)))).toBe("payload_too_large");
    expect(await codeOf(guardedFetch("https://stalled.example.com/", fetchOpts(resolve, { timeoutMs: 200 })))).toBe("input_fetch_failed");
  });
});

describe("DNS-over-HTTPS resolver", () => {
  it("is the one the configuration names (DNS_RESOLVER_URL) when a caller passes outboundPolicy(config)", async () => {
    stub = stubFetch({
      "doh.test-resolver.example": (req) =>
        Response.json({ Status: 0, Answer: new URL(req.url).searchParams.get("type") === "A" ? [{ type: 1, data: "10.9.9.9" }] : [] }),
      "cloudflare-dns.com": () => Response.json({ Status: 0, Answer: [{ type: 1, data: "93.184.216.34" }] }),
    });
    const policy = outboundPolicy({ allowLoopbackHttp: false, dnsResolverUrl: "https://doh.test-resolver.example/dns-query" });
    expect(await codeOf(guardedFetch("https://cdn.example.com/a.png", { policy, maxBytes: 1024, timeoutMs: 5000, maxRedirects: 0 }))).toBe(
      "url_not_allowed",
    );
    expect(stub.hosts()).toEqual(["doh.test-resolver.example", "doh.test-resolver.example"]);
  });

  it("leaves a discarded body unread, so a large receiver answer cannot fail a webhook", async () => {
    stub = stubFetch({ "hooks.example.com": () => new Response("x".repeat(100_000), { status: 200 }) });
    const policy = { allowLoopback: false, resolve: table({ "hooks.example.com": ["93.184.216.34"] }) };
    const { response, body } = await guardedFetch("https://hooks.example.com/h", {
      policy,
      maxBytes: 1024,
      timeoutMs: 5000,
      maxRedirects: 0,
      discardBody: true,
    });
    expect(response.status).toBe(200);
    expect(body.byteLength).toBe(0);
  });

  it("asks for A and AAAA as application/dns-json and keeps only address records", async () => {
    const asked: Request[] = [];
    const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      asked.push(req);
      const type = new URL(req.url).searchParams.get("type");
      const answer =
        type === "A"
          ? [
              { name: "www.example.com", type: 5, data: "cdn.example.net." },
              { name: "cdn.example.net", type: 1, data: "93.184.216.34" },
            ]
          : [{ name: "cdn.example.net", type: 28, data: "2606:2800:220:1::1" }];
      return Response.json({ Status: 0, Answer: answer });
    }) as typeof fetch;
    const addresses = await dohResolver("https://dns.example/dns-query", fetcher)("www.example.com");
    expect(addresses.sort()).toEqual(["2606:2800:220:1::1", "93.184.216.34"]);
    expect(asked.map((r) => new URL(r.url).searchParams.get("type")).sort()).toEqual(["A", "AAAA"]);
    for (const r of asked) {
      expect(r.headers.get("accept")).toBe("application/dns-json");
      expect(new URL(r.url).searchParams.get("name")).toBe("www.example.com");
      expect(new URL(r.url).origin + new URL(r.url).pathname).toBe("https://dns.example/dns-query");
    }
  });

  it("answers nothing for NXDOMAIN and fails on SERVFAIL or an HTTP error", async () => {
    const answering = (body: unknown, status = 200) => (async () => Response.json(body, { status })) as typeof fetch;
    expect(await dohResolver("https://dns.example/q", answering({ Status: 3 }))("gone.example.com")).toEqual([]);
    await expect(dohResolver("https://dns.example/q", answering({ Status: 2 }))("x.example.com")).rejects.toThrow(/status 2/);
    await expect(dohResolver("https://dns.example/q", answering({}, 502))("x.example.com")).rejects.toThrow(/HTTP 502/);
  });
});

describe("through the API (the configured DNS-over-HTTPS endpoint, answered by the test)", () => {
  const DOH = "cloudflare-dns.com";
  /** Answers DoH queries from `zone`, serves a PNG from every other host, records every request. */
  function world(zone: Record<string, string[]>) {
    return stubFetch({
      [DOH]: (req) => {
        const q = new URL(req.url).searchParams;
        const wanted = q.get("type") === "A" ? 1 : 28;
        const records = (zone[q.get("name")!] ?? [])
          .filter((a) => (a.includes(":") ? 28 : 1) === wanted)
          .map((data) => ({ type: wanted, data }));
        return Response.json({ Status: zone[q.get("name")!] ? 0 : 3, Answer: records });
      },
      "photos.example.com": () => new Response(pngOf(512, 512) as BodyInit, { headers: { "content-type": "image/png" } }),
      "rebind.example.com": () => new Response(pngOf(512, 512) as BodyInit),
    });
  }

  it("refuses a reference image whose host resolves inside, and fetches one that resolves outside", async () => {
    stub = world({ "rebind.example.com": ["10.0.0.7"], "photos.example.com": ["93.184.216.34"] });
    const { key } = await createKey(freshOwner());
    const refused = await api("/v1/jobs", key, {
      method: "POST",
      json: tinyJob({}, { reference_images: [{ url: "https://rebind.example.com/face.png" }] }),
    });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as { code: string }).code).toBe("url_not_allowed");
    expect(stub.hosts()).not.toContain("rebind.example.com");
    const accepted = await api("/v1/jobs", key, {
      method: "POST",
      json: tinyJob({}, { reference_images: [{ url: "https://photos.example.com/face.png" }] }),
    });
    expect(accepted.status).toBe(201);
    expect(stub.hosts()).toContain("photos.example.com");
    const dohQuery = stub.requested.find((r) => new URL(r.url).host === DOH)!;
    expect(dohQuery.headers.get("accept")).toBe("application/dns-json");
  });

  it("never delivers a webhook to a host that resolves inside", async () => {
    stub?.restore();
    const peer = installPeer();
    try {
      const { key } = await createKey(freshOwner());
      const job = (await (await multipartJob(key, tinyJob({ webhook: { url: "https://hooks.rebind.example.com/h" } }))).json()) as {
        id: string;
      };
      await runDispatch(job.id);
      await completeJob(peer.dispatched.find((d) => d.job_id === job.id)!);
      stub = world({ "hooks.rebind.example.com": ["192.168.10.10"] });
      await runWebhookDeliveries(job.id);
      expect(stub.hosts()).not.toContain("hooks.rebind.example.com");
      const log = (await (await api(`/v1/jobs/${job.id}/webhook_deliveries`, key)).json()) as {
        data: Array<{ last_error: string | null; status: string }>;
      };
      expect(log.data.length).toBeGreaterThan(0);
      expect(JSON.stringify(log.data)).toMatch(/private or reserved/);
    } finally {
      stub?.restore();
      stub = null;
      peer.restore();
    }
  });
});
