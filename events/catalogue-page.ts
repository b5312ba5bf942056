import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  catalogue,
  type EventDefinition,
  type EventParty,
  exampleEnvelopeOf,
  schemaKeyOf,
} from './catalogue';
import { renderSchema } from './generate';

/**
 * The event catalogue as a page (events/CATALOGUE.md) for the people who subscribe: every event with its
 * producers, consumers, an example envelope and its JSON Schema — all rendered from events/catalogue.ts and the
 * same JSON Schemas as events/schemas/, so the page cannot say anything the code does not.
 */
export const CATALOGUE_PAGE = join(dirname(fileURLToPath(import.meta.url)), 'CATALOGUE.md');

const anchorOf = (event: EventDefinition) =>
  schemaKeyOf(event)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-');

const partyLine = (party: EventParty) =>
  `| \`${party.capability}\` | ${party.purpose.replaceAll('|', '\\|')} | ${party.status} |`;

function parties(title: string, list: readonly EventParty[]): string[] {
  if (list.length === 0) return [`**${title}:** none yet.`, ''];
  return [
    `**${title}:**`,
    '',
    '| capability | what for | status |',
    '| --- | --- | --- |',
    ...list.map(partyLine),
    '',
  ];
}

function section(event: EventDefinition): string[] {
  return [
    `## ${event.detailType} v${event.version}`,
    '',
    event.description,
    '',
    `Source \`${event.source}\`, detail-type \`${event.detailType}\`, schema \`urn:zwfw-hub:events:${schemaKeyOf(event)}\` ` +
      `([events/schemas/${schemaKeyOf(event)}.json](schemas/${schemaKeyOf(event)}.json)).`,
    '',
    ...parties('Producers', event.producers),
    ...parties('Consumers', event.consumers),
    '**Example** (the whole EventBridge envelope):',
    '',
    '```json',
    JSON.stringify(exampleEnvelopeOf(event), null, 2),
    '```',
    '',
    '<details><summary>JSON Schema</summary>',
    '',
    '```json',
    renderSchema(event).trimEnd(),
    '```',
    '',
    '</details>',
    '',
  ];
}

export function renderCataloguePage(): string {
  const lines = [
    '# Event catalogue',
    '',
    '<!-- Generated from events/catalogue.ts by `npm run events:catalogue`; a test fails when it is stale. -->',
    '',
    "Every event on the hub's EventBridge bus: who emits it, who listens, what it looks like. Details carry",
    'masked identifiers only, never an ID number or a name in clear. Subscribers deduplicate by the ids each',
    'event names and accept unknown members (a minor change adds members; a breaking one is a new version).',
    '',
    '| event | source | producers | consumers |',
    '| --- | --- | --- | --- |',
    ...catalogue.map(
      (event) =>
        `| [${event.detailType} v${event.version}](#${anchorOf(event)}) | \`${event.source}\` | ` +
        `${event.producers.map((p) => p.capability).join(', ') || '—'} | ` +
        `${event.consumers.map((p) => p.capability).join(', ') || '—'} |`,
    ),
    '',
    ...catalogue.flatMap((event) => section(event)),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

const runAsScript = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (runAsScript) {
  writeFileSync(CATALOGUE_PAGE, renderCataloguePage());
  console.log(`wrote ${CATALOGUE_PAGE}`);
}
