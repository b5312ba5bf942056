import { describe, expect, it } from 'vitest';
import { creditCodeCheckCharacter } from '../../../shared/identifiers/credit-code';
import { generateCitizenId, generateCreditCode, seededRandom } from '../../../shared/identifiers/generate';
import { findPersonalData } from '../../support/pii-scan';

describe('the personal-data scan of test output', () => {
  const random = seededRandom(11);

  it('finds valid citizen ID numbers in clear and reports them masked', () => {
    const id = generateCitizenId(random);
    const findings = findPersonalData(`{"level":"INFO","idNumber":"${id}"}`, 'a log');
    expect(findings).toEqual([
      expect.objectContaining({ kind: 'citizen-id', masked: `${id.slice(0, 6)}********${id.slice(-4)}` }),
    ]);
    expect(JSON.stringify(findings)).not.toContain(id);
  });

  it('ignores masked numbers, numbers with a wrong check character, and longer digit runs', () => {
    const id = generateCitizenId(random);
    const wrongCheck = id.slice(0, 17) + (id.endsWith('0') ? '1' : '0');
    const text = [`${id.slice(0, 6)}********${id.slice(-4)}`, wrongCheck, `9${id}`, `${id}7`].join(' ');
    expect(findPersonalData(text, 'a log')).toEqual([]);
  });

  it("finds individual businesses' credit codes (persons) but not companies'", () => {
    const company = generateCreditCode(random);
    const individual = `92${company.slice(2, 17)}`;
    const withCheck = individual + creditCodeCheckCharacter(individual);
    const findings = findPersonalData(`${company} ${withCheck}`, 'a log');
    expect(findings.map((f) => f.kind)).toEqual(['person-credit-code']);
  });

  it('finds mainland mobile numbers but not timestamps, masked numbers or digits inside identifiers', () => {
    const findings = findPersonalData(
      'call 13812345678; at 1763781234567; 138****5678; 1763781234; id "dae9-f19212343961"',
      'x',
    );
    expect(findings.map((f) => [f.kind, f.masked])).toEqual([['mobile-phone', '138****5678']]);
  });

  it('finds registry names and masks the context it shows', () => {
    const [finding] = findPersonalData('{"name":"张三","id":"42"}', 'events.jsonl');
    expect(finding).toMatchObject({ kind: 'registry-name', masked: '张*', source: 'events.jsonl' });
    expect(finding?.context).not.toMatch(/[张三0-9]/);
  });
});
