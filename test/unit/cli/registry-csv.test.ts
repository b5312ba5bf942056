import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  CsvFormatError,
  csvLine,
  parseCsvLine,
  parseHeader,
  readRegistryCsv,
} from '../../../infra/cli/commands/registry-csv';

const rowsOf = async (text: string) => {
  const rows = [];
  for await (const row of readRegistryCsv(Readable.from([Buffer.from(text, 'utf8')]))) rows.push(row);
  return rows;
};

describe('CSV lines', () => {
  it.each([
    ['a,b,c', ['a', 'b', 'c']],
    ['a,,', ['a', '', '']],
    ['', ['']],
    ['"Smith, John","say ""hi""",x', ['Smith, John', 'say "hi"', 'x']],
    ['"",b', ['', 'b']],
  ])('splits %j', (line, fields) => {
    expect(parseCsvLine(line)).toEqual({ ok: true, fields });
  });

  it('reports an unterminated quote and text after a closing quote', () => {
    expect(parseCsvLine('a,"open')).toEqual({ ok: false, reason: 'unterminated_quote' });
    expect(parseCsvLine('"closed"x,b')).toEqual({ ok: false, reason: 'text_after_quote' });
  });

  it('round-trips what csvLine writes', () => {
    const fields = ['person', 'a,b', 'say "hi"', ''];
    expect(parseCsvLine(csvLine(fields).trimEnd())).toEqual({ ok: true, fields });
  });
});

describe('CSV header', () => {
  it('finds columns by name, in any order, with an optional status and a BOM', () => {
    expect(parseHeader('\uFEFFName,subject,ID')).toEqual({ name: 0, subject: 1, id: 2 });
    expect(parseHeader('subject,id,name,status')).toEqual({ subject: 0, id: 1, name: 2, status: 3 });
  });

  it('refuses a missing, repeated or unknown column without quoting the line', () => {
    expect(() => parseHeader('subject,id')).toThrow(/lacks the column\(s\) name/);
    expect(() => parseHeader('subject,id,name,id')).toThrow(/twice/);
    // A file without a header: its first identity must not be printed back.
    const error = (() => {
      try {
        parseHeader('person,11010519491231002X,张三');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(CsvFormatError);
    expect(error?.message).not.toMatch(/11010519491231002X|张三|person/);
  });
});

describe('registry CSV', () => {
  it('yields identities and rejected rows with file line numbers and value-free reasons', async () => {
    const rows = await rowsOf(
      [
        'subject,id,name,status',
        'person,11010519491231002X,张三,',
        '',
        'person,110105194912310021,李四,',
        'enterprise,91330106MA2K111119,王五,active',
        'person,"11010519491231002X,张三',
        'person,330106198506123419,李四',
        'person,330106198506123419,,cancelled',
        'enterprise,91330106MA2K111110,"Smith, John",',
        'person,330106198506123419,李四,gone',
      ].join('\r\n'),
    );
    expect(rows).toEqual([
      {
        line: 2,
        ok: true,
        identity: { subject: 'person', idNumber: '11010519491231002X', name: '张三', status: 'active' },
      },
      { line: 4, ok: false, reason: 'citizen_id:check_character_mismatch' },
      {
        line: 5,
        ok: true,
        identity: {
          subject: 'enterprise',
          creditCode: '91330106MA2K111119',
          legalRepresentative: '王五',
          status: 'active',
        },
      },
      { line: 6, ok: false, reason: 'unterminated_quote' },
      { line: 7, ok: false, reason: 'wrong_number_of_columns' },
      { line: 8, ok: false, reason: 'name:name_missing' },
      { line: 9, ok: false, reason: 'credit_code:check_character_mismatch' },
      { line: 10, ok: false, reason: 'unknown_status' },
    ]);
  });

  it('rejects a row whose bytes are not UTF-8 instead of storing a garbled name', async () => {
    const bytes = Buffer.concat([
      Buffer.from('subject,id,name\nperson,11010519491231002X,', 'utf8'),
      Buffer.from([0xd5, 0xc5, 0xc8, 0xfd]), // 张三 in GBK
      Buffer.from('\n', 'utf8'),
    ]);
    const rows = [];
    for await (const row of readRegistryCsv(Readable.from([bytes]))) rows.push(row);
    expect(rows).toEqual([{ line: 2, ok: false, reason: 'name:name_invalid_characters' }]);
  });

  it('refuses an empty file', async () => {
    await expect(rowsOf('')).rejects.toThrow(CsvFormatError);
  });
});
