import { stderrLogger } from "./log.js";
import { up } from "./up.js";

/**
 * vitest `globalSetup`: makes sure the environment is up (fast when it already is). It deliberately
 * returns no teardown, so the next test run reuses the running environment.
 */
export default async function setup(): Promise<void> {
  await up({ log: stderrLogger });
}
