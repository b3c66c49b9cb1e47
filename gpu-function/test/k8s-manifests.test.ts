import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
// `yaml` arrives transitively (openapi3-ts, under @asteasolutions/zod-to-openapi); see the report.
import { parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { CONFIG_ENV_VARS, readConfig } from "../src/runtime/config.js";
import { createApp } from "../src/server/app.js";
import { SHUTDOWN_AFTER_DRAIN_MS, type JobRunner } from "../src/server/job-runner.js";
import { Metrics } from "../src/server/metrics.js";
import { parseExposition } from "./support/prometheus.js";

/**
 * infra/k8s checked against the code it deploys: probe paths the app serves, the port
 * and env names the config reads, a grace period longer than the drain, an autoscaler
 * on a metric /metrics exposes, selectors that select, and no committed secrets.
 */
const DIR = "infra/k8s";
type Doc = Record<string, any>;

function load(file: string): Doc[] {
  return parseAllDocuments(readFileSync(join(DIR, file), "utf8")).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
    return d.toJS() as Doc;
  });
}

const kustomization = load("kustomization.yaml")[0]!;
const resources = (kustomization.resources as string[]).flatMap(load);
const one = (kind: string): Doc => {
  const found = resources.filter((r) => r.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const deployment = one("Deployment");
const configMap = one("ConfigMap");
const pod = deployment.spec.template.spec;
const container = pod.containers[0];
const podLabels = deployment.spec.template.metadata.labels as Record<string, string>;
const selects = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => podLabels[k] === v);
const envFromConfigMap = (): Record<string, string> => configMap.data;

/** The app with a stand-in runner in a given state, to ask what a probe would get. */
function appIn(state: { ready: boolean; draining: boolean }) {
  const runner = {
    isReady: state.ready,
    isDraining: state.draining,
    loadError: null,
    inFlight: 0,
    bundleId: "b@1",
    provider: "cuda",
  } as unknown as JobRunner;
  return createApp(readConfig({ ...envFromConfigMap(), GPU_DISPATCH_TOKEN: "x".repeat(32) }), runner, new Metrics());
}

/** The C2PA signing certificate chain and key (issue 15): secrets, set the way the dispatch token is. */
const C2PA_SECRETS = ["C2PA_CERT_CHAIN_PEM", "C2PA_PRIVATE_KEY_PEM"];

describe("infra/k8s manifests", () => {
  it("lists files that exist and parse; namespace-agnostic; the expected kinds once each", () => {
    for (const file of kustomization.resources as string[]) expect(existsSync(join(DIR, file)), file).toBe(true);
    for (const r of resources) expect(r.metadata?.namespace, `${r.kind} ${r.metadata?.name}`).toBeUndefined();
    for (const kind of ["Deployment", "Service", "ConfigMap", "PersistentVolumeClaim", "HorizontalPodAutoscaler", "PodDisruptionBudget"])
      one(kind);
  });

  it("commits no Secret and no literal secret values", () => {
    for (const file of readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f))) {
      for (const doc of load(file)) expect(doc?.kind, file).not.toBe("Secret");
    }
    for (const name of ["GPU_DISPATCH_TOKEN", ...C2PA_SECRETS]) {
      const secret = container.env.find((e: Doc) => e.name === name);
      expect(secret?.value, name).toBeUndefined();
      expect(secret?.valueFrom.secretKeyRef, name).toMatchObject({ name: expect.any(String), key: expect.any(String) });
    }
    const secretLike = /TOKEN|SECRET|PASSWORD|KEY/i;
    for (const e of container.env as Doc[]) if (secretLike.test(e.name)) expect(e.value, e.name).toBeUndefined();
    for (const name of Object.keys(envFromConfigMap())) expect(name).not.toMatch(secretLike);
  });

  it("sets only environment variables that gpu-function/src/runtime/config.ts reads, and they parse", () => {
    const names = [...Object.keys(envFromConfigMap()), ...(container.env as Doc[]).map((e) => e.name as string)];
    for (const name of names) expect(CONFIG_ENV_VARS, name).toContain(name);
    expect(container.envFrom).toEqual([{ configMapRef: { name: configMap.metadata.name } }]);
    const config = readConfig({ ...envFromConfigMap(), GPU_DISPATCH_TOKEN: "x".repeat(32) });
    expect(config.host).toBe("0.0.0.0"); // reachable from the kubelet and the Service, not loopback only
    expect(config.provider).toBe("cuda");
  });

  it("serves on the container port the probes and the Service use", () => {
    const config = readConfig({ ...envFromConfigMap(), GPU_DISPATCH_TOKEN: "x".repeat(32) });
    const port = container.ports.find((p: Doc) => p.name === "http");
    expect(port.containerPort).toBe(config.port);
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) expect(container[probe].httpGet.port, probe).toBe("http");
    const service = one("Service");
    expect(service.spec.ports.map((p: Doc) => p.targetPort)).toEqual(["http"]);
    expect(selects(service.spec.selector)).toBe(true);
    expect(deployment.spec.template.metadata.annotations["prometheus.io/port"]).toBe(String(config.port));
    expect(readFileSync("infra/gpu-function/Dockerfile", "utf8")).toMatch(new RegExp(`EXPOSE ${config.port}\\b`));
  });

  it("probes paths the app serves: readiness fails while loading or draining, liveness does not", async () => {
    const status = async (path: string, state: { ready: boolean; draining: boolean }) => (await appIn(state).request(path)).status;
    const { startupProbe, readinessProbe, livenessProbe } = container;
    for (const probe of [startupProbe, readinessProbe, livenessProbe])
      expect(await status(probe.httpGet.path, { ready: true, draining: false }), probe.httpGet.path).toBe(200);
    expect(await status(readinessProbe.httpGet.path, { ready: true, draining: true })).toBe(503);
    expect(await status(readinessProbe.httpGet.path, { ready: false, draining: false })).toBe(503);
    expect(await status(startupProbe.httpGet.path, { ready: false, draining: false })).toBe(503);
    expect(await status(livenessProbe.httpGet.path, { ready: false, draining: true })).toBe(200);
    // The startup probe allows a slow model load: minutes, not seconds.
    expect(startupProbe.periodSeconds * startupProbe.failureThreshold).toBeGreaterThanOrEqual(300);
  });

  it("gives the drain time to run: grace period > preStop + DRAIN_SECONDS + hand-back and stop", () => {
    const drainSeconds = readConfig({ ...envFromConfigMap(), GPU_DISPATCH_TOKEN: "x".repeat(32) }).drainMs / 1000;
    const preStop = container.lifecycle.preStop.exec.command as string[];
    expect(preStop[0]).toBe("sleep");
    const preStopSeconds = Number(preStop[1]);
    expect(preStopSeconds).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + drainSeconds + SHUTDOWN_AFTER_DRAIN_MS / 1000);
  });

  it("asks for one NVIDIA GPU and mounts the bundle read-only where BUNDLE_DIR points", () => {
    expect(String(container.resources.requests["nvidia.com/gpu"])).toBe("1");
    expect(String(container.resources.limits["nvidia.com/gpu"])).toBe("1");
    const mount = container.volumeMounts.find((m: Doc) => m.mountPath === envFromConfigMap().BUNDLE_DIR);
    expect(mount, "a mount at BUNDLE_DIR").toBeDefined();
    expect(mount.readOnly).toBe(true);
    const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
    const pvc = one("PersistentVolumeClaim");
    expect(volume.persistentVolumeClaim).toEqual({ claimName: pvc.metadata.name, readOnly: true });
    expect(pvc.spec.accessModes).toContain("ReadOnlyMany");
  });

  it("selects its own pods: the Deployment's selector and the PodDisruptionBudget's", () => {
    expect(selects(deployment.spec.selector.matchLabels)).toBe(true);
    const pdb = one("PodDisruptionBudget");
    expect(selects(pdb.spec.selector.matchLabels)).toBe(true);
    expect(pdb.spec.maxUnavailable ?? pdb.spec.minAvailable).toBeDefined();
  });

  it("autoscales the Deployment on a Pods metric /metrics exposes, served by the documented adapter rule", () => {
    const hpa = one("HorizontalPodAutoscaler");
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name });
    expect(deployment.spec.replicas).toBeUndefined(); // the HPA owns the count
    const [metric] = hpa.spec.metrics as Doc[];
    expect(metric!.type).toBe("Pods");
    const name = metric!.pods.metric.name as string;
    const exposed = parseExposition(new Metrics().render());
    expect(exposed.types.get(name)).toBe("gauge");

    const rule = load("prometheus-adapter-rules.yaml")[0]!.rules.custom.find((r: Doc) => r.name.as === name);
    expect(rule, `an adapter rule named ${name}`).toBeDefined();
    const series = /^(\w+)\{/.exec(rule.seriesQuery)![1]!;
    expect(exposed.types.has(series)).toBe(true);
    expect(rule.metricsQuery).toContain(series);
    expect(rule.resources.overrides.pod.resource).toBe("pod");
  });

  it("infra/serverless/cloud-run-service.yaml: config env names, the app's probe paths and port, the token from a secret", async () => {
    const service = parseAllDocuments(readFileSync("infra/serverless/cloud-run-service.yaml", "utf8"))[0]!.toJS() as Doc;
    const run = service.spec.template.spec.containers[0];
    for (const e of run.env as Doc[]) expect(CONFIG_ENV_VARS, e.name).toContain(e.name);
    for (const name of ["GPU_DISPATCH_TOKEN", ...C2PA_SECRETS])
      expect(run.env.find((e: Doc) => e.name === name)?.valueFrom.secretKeyRef, name).toBeDefined();
    const port = readConfig({ GPU_DISPATCH_TOKEN: "x".repeat(32) }).port;
    expect(run.ports[0].containerPort).toBe(port);
    const app = appIn({ ready: true, draining: false });
    for (const probe of [run.startupProbe, run.livenessProbe]) {
      expect(probe.httpGet.port).toBe(port);
      expect((await app.request(probe.httpGet.path)).status, probe.httpGet.path).toBe(200);
    }
    expect(service.spec.template.spec.containerConcurrency).toBe(1);
    expect(String(run.resources.limits["nvidia.com/gpu"])).toBe("1");
  });
});
