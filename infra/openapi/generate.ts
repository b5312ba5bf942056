import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderOpenApi } from './document';

/** `npm run api:openapi`: writes openapi.json at the repository root (a test fails when it is stale). */
export const OPENAPI_FILE = join(import.meta.dirname, '..', '..', 'openapi.json');

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runAsScript) {
  writeFileSync(OPENAPI_FILE, renderOpenApi());
  console.log(`wrote ${OPENAPI_FILE}`);
}
