// The dashboard's static files: built by tsup at package build time into dist/dashboard/ (no CDN:
// the page works offline) and served at GET / and /dashboard/<file>. Read once, kept in memory.

import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** The files the page needs, by URL path, with their content types. */
export const DASHBOARD_FILES: Readonly<Record<string, { file: string; type: string }>> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/dashboard/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
  "/dashboard/xterm.css": { file: "xterm.css", type: "text/css; charset=utf-8" },
};

/** The paths served without the bearer token: the page asks for the token itself. */
export const DASHBOARD_OPEN_PATHS: readonly string[] = Object.keys(DASHBOARD_FILES);

export interface DashboardAsset {
  body: Buffer;
  type: string;
}

/**
 * Where the built files are: dist/dashboard beside the bundle (dist/index.js, dist/cli.js), or,
 * for the sources run by tests, the package's dist/dashboard.
 */
function candidateDirs(): URL[] {
  return [new URL("./dashboard/", import.meta.url), new URL("../../dist/dashboard/", import.meta.url)];
}

/** Loads the dashboard's files; undefined (and the page answers 404) when the package was built without them. */
export async function loadDashboardAssets(
  dirs: readonly URL[] = candidateDirs(),
): Promise<Map<string, DashboardAsset> | undefined> {
  for (const dir of dirs) {
    const assets = new Map<string, DashboardAsset>();
    try {
      for (const [path, { file, type }] of Object.entries(DASHBOARD_FILES)) {
        assets.set(path, { body: await readFile(fileURLToPath(new URL(file, dir))), type });
      }
      return assets;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return undefined;
}
