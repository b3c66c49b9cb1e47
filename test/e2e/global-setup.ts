import type { TestProject } from "vitest/node";
import { startStack, stopStack, type StackInfo } from "./support/stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    e2eStack: StackInfo;
  }
}

/**
 * One stack for the whole e2e project: starting workerd and loading the model costs
 * ~25 s on this machine, so the test files share it (and run one at a time, see
 * vitest.config.ts). The teardown stops everything by process group, also after failures.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const stack = await startStack();
  console.log(`e2e: stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (edge ${stack.edgeUrl}, GPU function ${stack.gpuUrl})`);
  project.provide("e2eStack", stack);
  return () => stopStack(stack.stateDir);
}
