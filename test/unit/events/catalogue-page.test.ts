import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogue, exampleEnvelopeOf, schemaKeyOf } from '../../../events/catalogue';
import { CATALOGUE_PAGE, renderCataloguePage } from '../../../events/catalogue-page';

describe('the event catalogue page (events/CATALOGUE.md)', () => {
  const page = renderCataloguePage();

  it('is committed as generated (run `npm run events:catalogue`)', () => {
    expect(readFileSync(CATALOGUE_PAGE, 'utf8')).toBe(page);
  });

  it.each(catalogue.map((event) => [schemaKeyOf(event), event] as const))(
    '%s has its section with producers, consumers, example and schema',
    (key, event) => {
      const start = page.indexOf(`## ${event.detailType} v${event.version}\n`);
      expect(start).toBeGreaterThan(0);
      const next = page.indexOf('\n## ', start + 1);
      const section = page.slice(start, next === -1 ? undefined : next);
      for (const party of [...event.producers, ...event.consumers])
        expect(section).toContain(`\`${party.capability}\``);
      expect(section).toContain(JSON.stringify(exampleEnvelopeOf(event), null, 2));
      expect(section).toContain(`"$id": "urn:zwfw-hub:events:${key}"`);
    },
  );
});
