import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalogue, exampleEnvelopeOf, schemaKeyOf } from '../../../events/catalogue';
import { renderSchemas, schemasDir } from '../../../events/generate';

const regenerate = 'run `npm run events:schemas` and commit events/schemas/';
const committed = () => readdirSync(schemasDir).filter((name) => !name.startsWith('.'));

describe('committed JSON Schemas (events/schemas/)', () => {
  const rendered = renderSchemas();

  it('has one file per catalogued event and no other', () => {
    expect(committed().sort(), regenerate).toEqual(Object.keys(rendered).sort());
  });

  it.each(Object.keys(rendered))('%s is up to date', (fileName) => {
    const onDisk = readFileSync(join(schemasDir, fileName), 'utf8');
    expect(onDisk, `${fileName} is stale: ${regenerate}`).toBe(rendered[fileName]);
  });

  it.each(catalogue.map((event) => [schemaKeyOf(event), event] as const))(
    '%s: draft 2020-12 with $id, title, description and the envelope',
    (key, event) => {
      const schema = JSON.parse(rendered[`${key}.json`] as string);
      expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema.$id).toBe(`urn:zwfw-hub:events:${key}`);
      expect(schema.title).toBe(`${event.detailType} v${event.version}`);
      expect(schema.description).toEqual(expect.any(String));
      expect(schema.required).toEqual(
        expect.arrayContaining([
          'version',
          'id',
          'detail-type',
          'source',
          'account',
          'time',
          'region',
          'detail',
        ]),
      );
      expect(schema.properties['detail-type'].const).toBe(event.detailType);
      expect(schema.properties.detail.additionalProperties).toBe(false);
    },
  );

  it.each(catalogue.map((event) => [schemaKeyOf(event), event] as const))(
    '%s: a consumer reading the JSON Schema accepts the example and rejects an unlisted field',
    (key, event) => {
      const consumerView = z.fromJSONSchema(JSON.parse(rendered[`${key}.json`] as string));
      const example = exampleEnvelopeOf(event);
      expect(consumerView.safeParse(example).success).toBe(true);
      const withExtra = { ...example, detail: { ...example.detail, idNumber: '11010519491231002X' } };
      expect(consumerView.safeParse(withExtra).success).toBe(false);
    },
  );
});
