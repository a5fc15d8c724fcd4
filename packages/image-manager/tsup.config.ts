import { defineConfig } from "tsup";
import { esmAndCjsBuilds } from "../../scripts/tsup-esm-cjs.ts";

// p-limit (and its yocto-queue) are ESM-only and MIT: the CJS build carries its own copy.
export default defineConfig(esmAndCjsBuilds(["p-limit", "yocto-queue"]));
