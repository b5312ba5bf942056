import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DASHBOARD_FILES } from '../local/dashboard-site';

/**
 * `npm run dashboard:build -- OUT_DIR`: the dashboard as static files (the page, its script and style, and
 * Apache ECharts vendored from node_modules) for a static host; the snapshots go beside them under
 * `snapshots/` (the assessments bucket's `assessments/*.json` and an `index.json` of its periods).
 */
export function buildDashboard(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  return Object.entries(DASHBOARD_FILES).map(([name, { file }]) => {
    copyFileSync(file, join(outDir, name));
    return name;
  });
}

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runAsScript) {
  const outDir = resolve(process.argv[2] ?? 'dist/dashboard');
  console.log(`wrote ${buildDashboard(outDir).join(', ')} to ${outDir}`);
}
