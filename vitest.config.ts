import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { readFileSync, writeFileSync } from "node:fs";
import { defineConfig } from "vitest/config";

/**
 * The edge tests use wrangler.toml without its queue consumers and cron: tests run
 * the consumers themselves (createMessageBatch), so every dispatch and delivery
 * happens exactly when a test says, and retries and delays can be asserted.
 */
function testWranglerConfig(): string {
  const toml = readFileSync("wrangler.toml", "utf8")
    .split(/\n(?=\[)/)
    .filter((block) => !block.startsWith("[[queues.consumers]]") && !block.startsWith("[triggers]"))
    .join("\n");
  writeFileSync("wrangler.test.generated.toml", toml);
  return "./wrangler.test.generated.toml";
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations("edge/migrations");
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: testWranglerConfig() },
              miniflare: {
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  SIGNING_SECRET: "test-signing-secret-0123456789abcdef",
                  GPU_DISPATCH_TOKEN: "test-dispatch-token-0123456789",
                  GPU_POOLS: JSON.stringify({ "ecomid-tiny": ["http://127.0.0.1:8790"] }),
                  RATE_LIMIT_REQUESTS_PER_MINUTE: "600",
                  RATE_LIMIT_CREATES_PER_MINUTE: "120",
                },
              },
            }),
          ],
          test: {
            name: "edge",
            include: ["test/edge/**/*.test.ts"],
            setupFiles: ["test/edge/setup/apply-migrations.ts"],
          },
        },
        {
          test: {
            name: "node",
            environment: "node",
            // Loading ONNX sessions on 2 shared cores can take seconds; parity, not speed, is tested here.
            testTimeout: 120_000,
            hookTimeout: 180_000,
            include: [
              "shared/**/*.test.ts",
              "gpu-function/**/*.test.ts",
              "test/node/**/*.test.ts",
              "scripts/**/*.test.ts",
              "cli/**/*.test.ts",
            ],
          },
        },
        {
          test: {
            name: "e2e",
            environment: "node",
            include: ["test/e2e/**/*.test.ts"],
            // One real stack (wrangler dev + the GPU function) is shared, so its files run one at a time.
            globalSetup: ["test/e2e/global-setup.ts"],
            fileParallelism: false,
            // Jobs, a GPU-function restart (~20 s model load) and lease timeouts on 2 shared cores.
            testTimeout: 150_000,
            hookTimeout: 240_000,
          },
        },
        {
          test: {
            name: "reliability",
            environment: "node",
            // After every other project: its stacks would compete with the e2e stack for 2 cores.
            sequence: { groupOrder: 1 },
            // Fault, webhook, fuzz and load suites (CI sizes); each file starts the stack it needs.
            include: ["test/reliability/**/*.test.ts"],
            fileParallelism: false,
            testTimeout: 600_000,
            hookTimeout: 300_000,
          },
        },
      ],
    },
  };
});
