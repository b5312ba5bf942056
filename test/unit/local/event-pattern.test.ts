import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalogue, exampleEnvelopeOf } from '../../../events/catalogue';
import {
  InvalidEventPatternError,
  matchesPattern,
  validatePattern,
} from '../../../infra/local/event-pattern';

/** The sample event of AWS's content-filtering documentation and of Event Ruler's README. */
const ec2Event = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

const withDetail = (detail: Record<string, unknown>) => ({ ...ec2Event, detail });

describe('matchesPattern: AWS documented examples', () => {
  it.each([
    [
      'simple match',
      {
        'detail-type': ['EC2 Instance State-change Notification'],
        detail: { state: ['initializing', 'running'] },
      },
    ],
    [
      'array intersection',
      { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000', 'arn:x'] },
    ],
    ['prefix', { time: [{ prefix: '2017-10-02' }] }],
    ['suffix', { source: [{ suffix: 'ec2' }] }],
    ['equals-ignore-case', { source: [{ 'equals-ignore-case': 'AWS.EC2' }] }],
    ['prefix ignoring case', { source: [{ prefix: { 'equals-ignore-case': 'AWS.E' } }] }],
    ['suffix ignoring case', { source: [{ suffix: { 'equals-ignore-case': '.EC2' } }] }],
    ['wildcard', { source: [{ wildcard: 'aws.*2' }] }],
    ['anything-but string', { detail: { state: [{ 'anything-but': 'initializing' }] } }],
    ['anything-but number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }],
    ['anything-but string list', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }],
    ['anything-but number list', { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }],
    ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }],
    ['anything-but suffix', { detail: { state: [{ 'anything-but': { suffix: 'ing.' } }] } }],
    [
      'anything-but ignoring case',
      { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['STOPPED'] } }] } },
    ],
    ['anything-but wildcard', { detail: { 'instance-id': [{ 'anything-but': { wildcard: '*/lib/*' } }] } }],
    [
      'numeric',
      {
        detail: {
          'c-count': [{ numeric: ['>', 0, '<=', 5] }],
          'd-count': [{ numeric: ['<', 10] }],
          'x-limit': [{ numeric: ['=', 3.018e2] }],
        },
      },
    ],
    ['cidr', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }],
    ['exists', { detail: { 'c-count': [{ exists: true }] } }],
    ['not exists', { detail: { 'e-count': [{ exists: false }] } }],
    [
      'complex example',
      {
        time: [{ prefix: '2017-10-02' }],
        detail: {
          state: [{ 'anything-but': 'initializing' }],
          'c-count': [{ numeric: ['>', 0, '<=', 5] }],
          'd-count': [{ numeric: ['<', 10] }],
          'x-limit': [{ 'anything-but': [100, 200, 300] }],
          'source-ip': [{ cidr: '10.0.0.0/8' }],
        },
      },
    ],
  ])('%s matches', (_, pattern) => {
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
  });

  it.each([
    ['exact, other value', { detail: { state: ['stopped'] } }],
    ['exact, case differs', { source: ['AWS.EC2'] }],
    ['prefix', { time: [{ prefix: '2017-10-03' }] }],
    ['suffix', { source: [{ suffix: 'EC2' }] }],
    ['wildcard', { source: [{ wildcard: 'aws.*3' }] }],
    ['anything-but string', { detail: { state: [{ 'anything-but': 'running' }] } }],
    ['anything-but list', { detail: { state: [{ 'anything-but': ['stopped', 'running'] }] } }],
    ['anything-but number', { detail: { 'c-count': [{ 'anything-but': [5] }] } }],
    ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'run' } }] } }],
    ['anything-but suffix', { detail: { state: [{ 'anything-but': { suffix: 'ning' } }] } }],
    [
      'anything-but ignoring case',
      { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'RUNNING' } }] } },
    ],
    ['anything-but wildcard', { detail: { 'instance-id': [{ 'anything-but': { wildcard: 'i-*' } }] } }],
    ['numeric above', { detail: { 'c-count': [{ numeric: ['>', 5] }] } }],
    ['numeric open top', { detail: { 'c-count': [{ numeric: ['>', 0, '<', 5] }] } }],
    ['numeric equals', { detail: { 'x-limit': [{ numeric: ['=', 301.81] }] } }],
    ['cidr', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }],
    ['exists on a missing field', { detail: { 'e-count': [{ exists: true }] } }],
    ['not exists on a present field', { detail: { 'c-count': [{ exists: false }] } }],
    ['a missing field for anything-but', { detail: { 'e-count': [{ 'anything-but': 'x' }] } }],
    ['one field of several failing', { source: ['aws.ec2'], detail: { state: ['stopped'] } }],
  ])('%s does not match', (_, pattern) => {
    expect(matchesPattern(pattern, ec2Event)).toBe(false);
  });

  it('exists: false matches a field that is an object, not a leaf (Ruler README)', () => {
    const event = withDetail({ state: 'running', 'c-count': { c1: 100 } });
    expect(matchesPattern({ detail: { 'c-count': [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { 'c-count': [{ exists: true }] } }, event)).toBe(false);
  });

  it('exists: false matches when the parent object is absent, exists: true does not', () => {
    const event = { source: 'aws.ec2' };
    expect(matchesPattern({ detail: { state: [{ exists: false }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ exists: true }] } }, event)).toBe(false);
  });

  it('a null value exists and matches null; an empty string matches ""', () => {
    const event = withDetail({ responseElements: null, lastName: '' });
    expect(matchesPattern({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { responseElements: [{ exists: true }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { lastName: [''] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { lastName: [null] } }, event)).toBe(false);
  });

  it('an empty event array holds no value', () => {
    const event = { ...ec2Event, resources: [] };
    expect(matchesPattern({ resources: [{ exists: false }] }, event)).toBe(true);
    expect(matchesPattern({ resources: [{ 'anything-but': 'x' }] }, event)).toBe(false);
  });

  it('strings, numbers and booleans never match across types', () => {
    const event = withDetail({ count: 5, flag: true, text: '5' });
    expect(matchesPattern({ detail: { count: ['5'] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { text: [5] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { flag: ['true'] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { flag: [true] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { count: [5.0] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { text: [{ numeric: ['=', 5] }] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { count: [{ prefix: '5' }] } }, event)).toBe(false);
  });

  it('anything-but accepts a value of another type, as Ruler does', () => {
    const event = withDetail({ count: 5 });
    expect(matchesPattern({ detail: { count: [{ 'anything-but': '5' }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { count: [{ 'anything-but': { prefix: '5' } }] } }, event)).toBe(true);
  });

  it('anything-but over an event array matches when any element is not excluded', () => {
    const event = withDetail({ tags: ['a', 'b'] });
    expect(matchesPattern({ detail: { tags: [{ 'anything-but': 'a' }] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { tags: [{ 'anything-but': ['a', 'b'] }] } }, event)).toBe(false);
  });

  it('numeric bounds are honoured exactly and only within ±5.0e9', () => {
    const at = (value: number, terms: unknown[]) =>
      matchesPattern({ detail: { n: [{ numeric: terms }] } }, withDetail({ n: value }));
    expect(at(0, ['>=', 0, '<', 1])).toBe(true);
    expect(at(1, ['>=', 0, '<', 1])).toBe(false);
    expect(at(1, ['>', 0, '<=', 1])).toBe(true);
    expect(at(0, ['>', 0, '<=', 1])).toBe(false);
    expect(at(-3.5, ['<', 0])).toBe(true);
    expect(at(6e9, ['>', 0])).toBe(false);
  });

  it('wildcard: * spans any characters, escapes are literal, matching is whole-value', () => {
    const at = (value: string, wildcard: string) => matchesPattern({ f: [{ wildcard }] }, { f: value });
    expect(at('dir/a/b.png', 'dir/*.png')).toBe(true);
    expect(at('dir/a.png.bak', 'dir/*.png')).toBe(false);
    expect(at('a*b', 'a\\*b')).toBe(true);
    expect(at('axb', 'a\\*b')).toBe(false);
    expect(at('a\\b', 'a\\\\b')).toBe(true);
    expect(at('a.b', 'a.b')).toBe(true);
    expect(at('axb', 'a.b')).toBe(false);
    expect(at('line1\nline2', 'line1*')).toBe(true);
    expect(at('anything', '*')).toBe(true);
  });

  it('cidr: IPv4 and IPv6 blocks, and non-addresses never match', () => {
    const at = (value: string, cidr: string) => matchesPattern({ ip: [{ cidr }] }, { ip: value });
    expect(at('192.168.1.255', '192.168.0.0/23')).toBe(true);
    expect(at('192.168.2.0', '192.168.0.0/23')).toBe(false);
    expect(at('2001:db8::1', '2001:db8::/64')).toBe(true);
    expect(at('2001:db8:0:1::1', '2001:db8::/64')).toBe(false);
    expect(at('::ffff:10.0.0.1', '::ffff:10.0.0.0/120')).toBe(true);
    expect(at('10.0.0.1', '2001:db8::/64')).toBe(false);
    expect(at('not-an-ip', '10.0.0.0/8')).toBe(false);
    expect(at('10.0.0.256', '10.0.0.0/8')).toBe(false);
  });

  it('$or: normal, parallel and nested (Ruler README)', () => {
    const event = { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 };
    const nested = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2', 'AWS/ES'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
        { scope: ['Service'] },
      ],
    };
    expect(matchesPattern(nested, event)).toBe(true);
    expect(matchesPattern(nested, { ...event, spaceId: 1 })).toBe(false);
    const parallel = {
      $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    };
    expect(matchesPattern(parallel, { ...event, detail: { source: 'aws.cloudwatch' } })).toBe(true);
    expect(matchesPattern(parallel, { ...event, detail: { source: 'aws.ec2' } })).toBe(false);
  });

  it('objects inside arrays match element by element (array consistency)', () => {
    const event = {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
        [{ firstName: 'Peter', lastName: 'Jones' }],
      ],
    };
    expect(matchesPattern({ employees: { firstName: ['Anna'] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ['Peter'], lastName: ['Jones'] } }, event)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event)).toBe(false);
  });

  it('looks at own fields only, never at inherited ones', () => {
    expect(matchesPattern({ constructor: [{ exists: true }] }, {})).toBe(false);
    expect(matchesPattern({ detail: { toString: [{ exists: false }] } }, { detail: {} })).toBe(true);
  });
});

describe('validatePattern', () => {
  it.each([
    ['not an object', ['x'], 'must be a JSON object'],
    ['empty pattern', {}, 'empty objects are not allowed'],
    ['empty nested object', { detail: {} }, 'detail: empty objects are not allowed'],
    ['bare string value', { source: 'aws.ec2' }, 'source: must be an array'],
    ['empty array', { source: [] }, 'source: empty arrays are not allowed'],
    ['nested array', { source: [['a']] }, 'source[0]: match values must be'],
    ['unknown operator', { source: [{ contains: 'x' }] }, 'unrecognised match type "contains"'],
    ['two operators', { source: [{ prefix: 'a', suffix: 'b' }] }, 'only one key'],
    ['prefix not a string', { source: [{ prefix: 1 }] }, 'source[0].prefix: must be a string'],
    ['prefix with another nested key', { source: [{ prefix: { wildcard: 'a' } }] }, 'equals-ignore-case'],
    ['exists not boolean', { source: [{ exists: 'true' }] }, 'must be true or false'],
    ['consecutive wildcards', { source: [{ wildcard: 'a**b' }] }, 'consecutive wildcard'],
    ['bad wildcard escape', { source: [{ wildcard: 'a\\b' }] }, 'backslash'],
    ['anything-but mixed list', { source: [{ 'anything-but': ['a', 1] }] }, 'only strings or only numbers'],
    ['anything-but null', { source: [{ 'anything-but': null }] }, 'must be a string, a number'],
    ['anything-but empty prefix', { source: [{ 'anything-but': { prefix: '' } }] }, 'must not be empty'],
    [
      'anything-but numeric',
      { source: [{ 'anything-but': { numeric: ['>', 1] } }] },
      'unsupported anything-but',
    ],
    ['numeric not an array', { n: [{ numeric: 5 }] }, 'must be an array'],
    ['numeric upper bound first', { n: [{ numeric: ['<', 5, '>', 1] }] }, 'a range must start with'],
    ['numeric inverted range', { n: [{ numeric: ['>', 5, '<', 1] }] }, 'lower bound must be below'],
    ['numeric unknown operator', { n: [{ numeric: ['!=', 5] }] }, 'unrecognised numeric operator'],
    ['numeric out of range', { n: [{ numeric: ['>', 6e9] }] }, '±5.0e9'],
    ['numeric value a string', { n: [{ numeric: ['>', '5'] }] }, 'must be a number'],
    ['cidr malformed', { ip: [{ cidr: '10.0.0.0/33' }] }, 'not a valid CIDR'],
    ['$or with one branch', { $or: [{ a: ['x'] }] }, 'at least 2 objects'],
    ['$or not an array', { $or: { a: ['x'] } }, 'must be an array of at least 2 objects'],
    ['$or with a non-object', { $or: [{ a: ['x'] }, ['b']] }, 'only objects are allowed'],
    ['reserved name inside $or', { $or: [{ numeric: [1] }, { prefix: ['a'] }] }, 'reserved name'],
  ])('rejects %s', (_, pattern, reason) => {
    const result = validatePattern(pattern);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(reason);
    expect(() => matchesPattern(pattern, ec2Event)).toThrow(InvalidEventPatternError);
  });

  it.each([
    ['null and empty string values', { a: [null, ''] }],
    ['a field named like an operator outside $or', { detail: { prefix: ['x'] } }],
    ['anything-but wildcard list', { a: [{ 'anything-but': { wildcard: ['*.png', 'dir/*'] } }] }],
    ['numeric single upper bound', { n: [{ numeric: ['<=', -5e9] }] }],
    ['IPv6 cidr', { ip: [{ cidr: '2001:db8::/32' }] }],
  ])('accepts %s', (_, pattern) => {
    expect(validatePattern(pattern)).toEqual({ ok: true });
  });
});

describe('patterns the project uses', () => {
  /** What a subscriber rule (CDK `eventPattern: { source, detailType }`) synthesises to for each catalogued event. */
  const subscriptionOf = (event: (typeof catalogue)[number]) => ({
    source: [event.source],
    'detail-type': [event.detailType],
  });

  it.each(catalogue.map((event) => [event.detailType, event] as const))(
    '%s subscription matches its own example envelope and no other event',
    (_, event) => {
      const pattern = subscriptionOf(event);
      expect(validatePattern(pattern)).toEqual({ ok: true });
      for (const other of catalogue) {
        expect(matchesPattern(pattern, exampleEnvelopeOf(other))).toBe(other === event);
      }
    },
  );

  it('CaseStatusChanged subscription matches a real envelope, not a look-alike from another source', () => {
    const pattern = { source: ['zwfw.case-aggregate'], 'detail-type': ['CaseStatusChanged'] };
    const envelope = exampleEnvelopeOf(catalogue[1]);
    expect(matchesPattern(pattern, envelope)).toBe(true);
    expect(matchesPattern(pattern, { ...envelope, source: 'zwfw.evaluation-ingest' })).toBe(false);
  });

  it('a subscriber filtering on the detail (completed cases) sees only those', () => {
    const pattern = {
      source: ['zwfw.case-aggregate'],
      'detail-type': ['CaseStatusChanged'],
      detail: { status: ['completed', 'terminated'] },
    };
    const envelope = exampleEnvelopeOf(catalogue[1]);
    expect(matchesPattern(pattern, envelope)).toBe(false);
    expect(
      matchesPattern(pattern, { ...envelope, detail: { ...envelope.detail, status: 'completed' } }),
    ).toBe(true);
  });

  it('the cross-cloud forwarding rule (detail-type allow-list) and the archive (own account)', () => {
    const envelope = exampleEnvelopeOf(catalogue[1]);
    expect(matchesPattern({ 'detail-type': ['CaseStatusChanged', 'EvaluationReceived'] }, envelope)).toBe(
      true,
    );
    expect(matchesPattern({ 'detail-type': ['EvaluationReceived'] }, envelope)).toBe(false);
    expect(matchesPattern({ account: ['000000000000'] }, envelope)).toBe(true);
    expect(matchesPattern({ account: ['111122223333'] }, envelope)).toBe(false);
  });
});

describe('properties', () => {
  const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));

  it('exact and anything-but are complements for any present value', () => {
    fc.assert(
      fc.property(fc.string(), value, (expected, actual) => {
        const exact = matchesPattern({ f: [expected] }, { f: actual });
        const excluded = matchesPattern({ f: [{ 'anything-but': expected }] }, { f: actual });
        return exact === (actual === expected) && excluded === !exact;
      }),
    );
  });

  it('prefix and suffix agree with String.startsWith / endsWith', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (affix, actual) => {
        return (
          matchesPattern({ f: [{ prefix: affix }] }, { f: actual }) === actual.startsWith(affix) &&
          matchesPattern({ f: [{ suffix: affix }] }, { f: actual }) === actual.endsWith(affix)
        );
      }),
    );
  });

  it('a wildcard made of a string split by * matches that string with anything spliced in', () => {
    const literal = fc.string().filter((text) => !text.includes('*') && !text.includes('\\'));
    fc.assert(
      fc.property(
        fc.array(literal, { minLength: 1, maxLength: 4 }),
        fc.array(fc.string()),
        (parts, fillers) => {
          const wildcard = parts.join('*');
          fc.pre(!wildcard.includes('**'));
          const actual = parts.map((part, i) => (i === 0 ? part : `${fillers[i] ?? ''}${part}`)).join('');
          return matchesPattern({ f: [{ wildcard }] }, { f: actual });
        },
      ),
    );
  });
});
