import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as z from 'zod';
import { catalogue, type EventDefinition, exampleEnvelopeOf, schemaKeyOf } from './catalogue';
import { envelopeOf } from './envelope';

export const schemasDir = join(dirname(fileURLToPath(import.meta.url)), 'schemas');

/** Stable public identifier of a schema file; consumers may pin to it. */
const schemaIdBase = 'urn:zwfw-hub:events:';

export function renderSchema(event: EventDefinition): string {
  const envelope = envelopeOf(event.detailType, event.schema, event.source);
  const generated = z.toJSONSchema(envelope, {
    target: 'draft-2020-12',
    io: 'output',
    unrepresentable: 'throw',
  });
  const { $schema, ...body } = generated;
  const document = {
    $schema,
    $id: `${schemaIdBase}${schemaKeyOf(event)}`,
    title: `${event.detailType} v${event.version}`,
    description: `${event.description} EventBridge envelope, source \`${event.source}\`, detail-type \`${event.detailType}\`.`,
    ...body,
    examples: [exampleEnvelopeOf(event)],
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** `{ fileName: content }` for every catalogued event: what events/schemas/ must hold, and nothing else. */
export function renderSchemas(): Record<string, string> {
  return Object.fromEntries(catalogue.map((event) => [`${schemaKeyOf(event)}.json`, renderSchema(event)]));
}

function writeSchemas(): void {
  mkdirSync(schemasDir, { recursive: true });
  const rendered = renderSchemas();
  for (const stale of readdirSync(schemasDir).filter((name) => !(name in rendered))) {
    rmSync(join(schemasDir, stale));
  }
  for (const [fileName, content] of Object.entries(rendered)) {
    writeFileSync(join(schemasDir, fileName), content);
  }
  console.log(`wrote ${Object.keys(rendered).length} schemas to ${schemasDir}`);
}

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runAsScript) writeSchemas();
