/**
 * EventBridge content filtering for the local bus, after AWS Event Ruler (the engine EventBridge runs):
 * fields are ANDed, the values in a field's array are ORed; an event array matches when any element does;
 * objects inside event arrays are matched element by element, so two fields never match from different
 * elements of one array (Ruler's "array consistency"). A field counts as present only when it holds a leaf
 * value: `exists: false` also matches a field whose value is an object or an empty array.
 */

type PatternObject = { [field: string]: PatternObject | Matcher[] | PatternObject[] };
type Matcher = string | number | boolean | null | { [operator: string]: unknown };
type Leaf = string | number | boolean | null;

export type PatternValidation = { ok: true } | { ok: false; reason: string };

export class InvalidEventPatternError extends Error {
  override readonly name = 'InvalidEventPatternError';
}

/** Ruler's numeric matching covers this range only, with 15 significant digits. */
const NUMERIC_LIMIT = 5e9;

const OPERATORS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
];

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// ---------------------------------------------------------------------------------------------------------------
// Validation: the rules Ruler's JsonRuleCompiler enforces when a rule is created (PutRule / CloudFormation).
// ---------------------------------------------------------------------------------------------------------------

export function validatePattern(pattern: unknown): PatternValidation {
  if (!isPlainObject(pattern)) return { ok: false, reason: 'the pattern must be a JSON object' };
  const reason = objectProblem(pattern, '', false);
  return reason === undefined ? { ok: true } : { ok: false, reason };
}

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

function objectProblem(node: Record<string, unknown>, path: string, insideOr: boolean): string | undefined {
  const keys = Object.keys(node);
  if (keys.length === 0) return `${path || 'pattern'}: empty objects are not allowed`;
  for (const key of keys) {
    const value = node[key];
    const at = join(path, key);
    const problem =
      key === '$or'
        ? orProblem(value, path)
        : insideOr && OPERATORS.includes(key)
          ? `${at}: "${key}" is a reserved name and cannot be a field inside $or`
          : Array.isArray(value)
            ? matcherListProblem(value, at)
            : isPlainObject(value)
              ? objectProblem(value, at, insideOr)
              : `${at}: must be an array of match values or an object`;
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function orProblem(value: unknown, path: string): string | undefined {
  const at = join(path, '$or');
  if (!Array.isArray(value)) return `${at}: must be an array of at least 2 objects`;
  if (value.length < 2) return `${at}: must hold at least 2 objects`;
  for (const [index, branch] of value.entries()) {
    if (!isPlainObject(branch)) return `${at}[${index}]: only objects are allowed in $or`;
    const problem = objectProblem(branch, `${at}[${index}]`, true);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function matcherListProblem(list: unknown[], path: string): string | undefined {
  if (list.length === 0) return `${path}: empty arrays are not allowed`;
  for (const [index, matcher] of list.entries()) {
    const problem = matcherProblem(matcher, `${path}[${index}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function matcherProblem(matcher: unknown, path: string): string | undefined {
  if (matcher === null || typeof matcher === 'string' || typeof matcher === 'boolean') return undefined;
  if (typeof matcher === 'number')
    return Number.isFinite(matcher) ? undefined : `${path}: numbers must be finite`;
  if (!isPlainObject(matcher))
    return `${path}: match values must be strings, numbers, booleans, null or objects`;
  const [operator, ...extra] = Object.keys(matcher);
  if (operator === undefined) return `${path}: match expression name not found`;
  if (extra.length > 0) return `${path}: only one key allowed in a match expression`;
  return operatorProblem(operator, matcher[operator], `${path}.${operator}`);
}

function operatorProblem(operator: string, value: unknown, path: string): string | undefined {
  switch (operator) {
    case 'prefix':
    case 'suffix':
      return isPlainObject(value) ? ignoreCaseOnlyProblem(value, path) : stringProblem(value, path);
    case 'equals-ignore-case':
      return stringProblem(value, path);
    case 'wildcard':
      return stringProblem(value, path) ?? wildcardProblem(value as string, path);
    case 'anything-but':
      return anythingButProblem(value, path);
    case 'numeric':
      return numericProblem(value, path);
    case 'exists':
      return typeof value === 'boolean' ? undefined : `${path}: must be true or false`;
    case 'cidr':
      return typeof value === 'string' && parseCidr(value) !== undefined
        ? undefined
        : `${path}: not a valid CIDR block`;
    default:
      return `${path}: unrecognised match type "${operator}"`;
  }
}

const stringProblem = (value: unknown, path: string) =>
  typeof value === 'string' ? undefined : `${path}: must be a string`;

function ignoreCaseOnlyProblem(value: Record<string, unknown>, path: string): string | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
    return `${path}: only { "equals-ignore-case": "..." } may be nested here`;
  }
  return stringProblem(value['equals-ignore-case'], `${path}.equals-ignore-case`);
}

function anythingButProblem(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return undefined;
  if (typeof value === 'number') return numberProblem(value, path);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${path}: empty arrays are not allowed`;
    if (value.every((item) => typeof item === 'string')) return undefined;
    if (value.every((item) => typeof item === 'number')) {
      return value.map((item, index) => numberProblem(item, `${path}[${index}]`)).find(Boolean);
    }
    return `${path}: a list must hold only strings or only numbers`;
  }
  if (!isPlainObject(value)) return `${path}: must be a string, a number, a list or an object`;
  const [operator, ...extra] = Object.keys(value);
  if (operator === undefined || extra.length > 0) return `${path}: exactly one nested match type expected`;
  if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(operator)) {
    return `${path}: unsupported anything-but pattern "${operator}"`;
  }
  const inner = value[operator];
  const items = Array.isArray(inner) ? inner : [inner];
  if (items.length === 0) return `${path}.${operator}: empty arrays are not allowed`;
  for (const [index, item] of items.entries()) {
    const at = Array.isArray(inner) ? `${path}.${operator}[${index}]` : `${path}.${operator}`;
    if (typeof item !== 'string') return `${at}: must be a string`;
    if ((operator === 'prefix' || operator === 'suffix') && item === '') return `${at}: must not be empty`;
    if (operator === 'wildcard') {
      const problem = wildcardProblem(item, at);
      if (problem !== undefined) return problem;
    }
  }
  return undefined;
}

function numberProblem(value: unknown, path: string): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${path}: must be a number`;
  return Math.abs(value) > NUMERIC_LIMIT ? `${path}: must lie within ±5.0e9` : undefined;
}

function numericProblem(value: unknown, path: string): string | undefined {
  if (!Array.isArray(value)) return `${path}: must be an array`;
  const parsed = parseNumericRange(value);
  if (typeof parsed === 'string') return `${path}: ${parsed}`;
  return value
    .filter((_, index) => index % 2 === 1)
    .map((bound) => numberProblem(bound, path))
    .find(Boolean);
}

function wildcardProblem(value: string, path: string): string | undefined {
  for (let index = 0; index < value.length; index++) {
    const char = value[index];
    if (char === '\\') {
      const next = value[index + 1];
      if (next !== '*' && next !== '\\') return `${path}: a backslash may only escape "*" or "\\"`;
      index++;
    } else if (char === '*' && value[index + 1] === '*') {
      return `${path}: consecutive wildcard characters are not allowed`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------------------------

const validated = new WeakSet<object>();

/** True when the event matches the pattern. Throws InvalidEventPatternError for a pattern AWS would reject. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (!(isPlainObject(pattern) && validated.has(pattern))) {
    const validation = validatePattern(pattern);
    if (!validation.ok) throw new InvalidEventPatternError(`Invalid event pattern: ${validation.reason}`);
    validated.add(pattern as object);
  }
  return matchObject(pattern as PatternObject, event);
}

function matchObject(pattern: PatternObject, node: unknown): boolean {
  return Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or') return (expected as PatternObject[]).some((branch) => matchObject(branch, node));
    // Own properties only: a pattern field named "constructor" must not find Object.prototype.constructor.
    const child = isPlainObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
    if (Array.isArray(expected)) return matchField(expected as Matcher[], leavesOf(child));
    const elements = objectsOf(child);
    // No object to descend into: the nested fields are all absent, which only `exists: false` accepts.
    if (elements.length === 0) return matchObject(expected, undefined);
    return elements.some((element) => matchObject(expected, element));
  });
}

/** The leaf values a field holds: arrays are flattened, objects are not leaves. */
function leavesOf(value: unknown): Leaf[] {
  if (value === undefined || isPlainObject(value)) return [];
  if (Array.isArray(value)) return value.flatMap(leavesOf);
  return [value as Leaf];
}

function objectsOf(value: unknown): Record<string, unknown>[] {
  if (isPlainObject(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(objectsOf);
  return [];
}

function matchField(matchers: Matcher[], leaves: Leaf[]): boolean {
  return matchers.some((matcher) => {
    if (isPlainObject(matcher) && 'exists' in matcher) return matcher.exists === leaves.length > 0;
    return leaves.some((leaf) => matchLeaf(matcher, leaf));
  });
}

function matchLeaf(matcher: Matcher, leaf: Leaf): boolean {
  if (!isPlainObject(matcher)) return matcher === leaf;
  const [operator] = Object.keys(matcher);
  const operand = matcher[operator as string];
  switch (operator) {
    case 'prefix':
      return typeof leaf === 'string' && startsWith(leaf, operand);
    case 'suffix':
      return typeof leaf === 'string' && endsWith(leaf, operand);
    case 'equals-ignore-case':
      return typeof leaf === 'string' && equalsIgnoreCase(leaf, operand as string);
    case 'wildcard':
      return typeof leaf === 'string' && wildcardRegExp(operand as string).test(leaf);
    case 'anything-but':
      return !excludedBy(operand, leaf);
    case 'numeric':
      return (
        typeof leaf === 'number' &&
        Math.abs(leaf) <= NUMERIC_LIMIT &&
        inNumericRange(operand as unknown[], leaf)
      );
    case 'cidr':
      return typeof leaf === 'string' && inCidr(operand as string, leaf);
    default:
      return false;
  }
}

const ignoringCase = (operand: unknown): operand is { 'equals-ignore-case': string } =>
  isPlainObject(operand);

function startsWith(value: string, operand: unknown): boolean {
  if (!ignoringCase(operand)) return value.startsWith(operand as string);
  return foldCase(value).startsWith(foldCase(operand['equals-ignore-case']));
}

function endsWith(value: string, operand: unknown): boolean {
  if (!ignoringCase(operand)) return value.endsWith(operand as string);
  return foldCase(value).endsWith(foldCase(operand['equals-ignore-case']));
}

const foldCase = (text: string) => text.toUpperCase().toLowerCase();
const equalsIgnoreCase = (a: string, b: string) => foldCase(a) === foldCase(b);

/**
 * Whether an anything-but operand excludes the value. Like Ruler, anything-but accepts a value of any other
 * type (a string pattern never excludes a number), and the prefix/suffix/ignore-case/wildcard forms exclude
 * strings only.
 */
function excludedBy(operand: unknown, leaf: Leaf): boolean {
  if (!isPlainObject(operand)) {
    const excluded = Array.isArray(operand) ? operand : [operand];
    return excluded.some((value) => value === leaf);
  }
  if (typeof leaf !== 'string') return false;
  const [operator] = Object.keys(operand);
  const inner = operand[operator as string];
  const values = (Array.isArray(inner) ? inner : [inner]) as string[];
  switch (operator) {
    case 'prefix':
      return values.some((value) => leaf.startsWith(value));
    case 'suffix':
      return values.some((value) => leaf.endsWith(value));
    case 'equals-ignore-case':
      return values.some((value) => equalsIgnoreCase(leaf, value));
    case 'wildcard':
      return values.some((value) => wildcardRegExp(value).test(leaf));
    default:
      return false;
  }
}

// --- numeric ---------------------------------------------------------------------------------------------------

type Bound = { value: number; inclusive: boolean };
type NumericRange = { lower?: Bound; upper?: Bound; equals?: number };

/** Ruler's grammar: `["=", n]`, one bound, or a lower bound (`>`/`>=`) followed by an upper bound (`<`/`<=`). */
function parseNumericRange(terms: unknown[]): NumericRange | string {
  const [operator, value, upperOperator, upperValue, ...rest] = terms;
  if (typeof operator !== 'string') return 'must start with an operator';
  if (typeof value !== 'number') return `the value of ${operator} must be a number`;
  if (rest.length > 0) return 'too many terms';
  const isLower = operator === '>' || operator === '>=';
  if (terms.length === 2) {
    if (operator === '=') return { equals: value };
    if (isLower) return { lower: { value, inclusive: operator === '>=' } };
    if (operator === '<' || operator === '<=') return { upper: { value, inclusive: operator === '<=' } };
    return `unrecognised numeric operator "${operator}"`;
  }
  if (!isLower) return 'a range must start with ">" or ">="';
  if (upperOperator !== '<' && upperOperator !== '<=') return 'a range must end with "<" or "<="';
  if (typeof upperValue !== 'number') return `the value of ${upperOperator} must be a number`;
  if (!(value < upperValue)) return 'the lower bound must be below the upper bound';
  return {
    lower: { value, inclusive: operator === '>=' },
    upper: { value: upperValue, inclusive: upperOperator === '<=' },
  };
}

function inNumericRange(terms: unknown[], value: number): boolean {
  const range = parseNumericRange(terms) as NumericRange;
  if (range.equals !== undefined) return value === range.equals;
  const aboveLower =
    !range.lower || value > range.lower.value || (range.lower.inclusive && value === range.lower.value);
  const belowUpper =
    !range.upper || value < range.upper.value || (range.upper.inclusive && value === range.upper.value);
  return aboveLower && belowUpper;
}

// --- wildcard --------------------------------------------------------------------------------------------------

const wildcardCache = new Map<string, RegExp>();

function wildcardRegExp(pattern: string): RegExp {
  let compiled = wildcardCache.get(pattern);
  if (compiled === undefined) {
    let source = '';
    for (let index = 0; index < pattern.length; index++) {
      const char = pattern[index] as string;
      if (char === '\\') source += escapeRegExp(pattern[++index] as string);
      else source += char === '*' ? '.*' : escapeRegExp(char);
    }
    compiled = new RegExp(`^${source}$`, 's');
    wildcardCache.set(pattern, compiled);
  }
  return compiled;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// --- cidr ------------------------------------------------------------------------------------------------------

type Cidr = { bits: 32 | 128; network: bigint; prefixLength: number };

function parseCidr(text: string): Cidr | undefined {
  const [address, prefix, ...rest] = text.split('/');
  if (address === undefined || prefix === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefix))
    return undefined;
  const ip = parseIp(address);
  const prefixLength = Number(prefix);
  if (ip === undefined || prefixLength > ip.bits) return undefined;
  return { bits: ip.bits, network: ip.value >> BigInt(ip.bits - prefixLength), prefixLength };
}

function inCidr(cidrText: string, value: string): boolean {
  const cidr = parseCidr(cidrText);
  const ip = parseIp(value);
  if (cidr === undefined || ip === undefined || ip.bits !== cidr.bits) return false;
  return ip.value >> BigInt(cidr.bits - cidr.prefixLength) === cidr.network;
}

function parseIp(text: string): { bits: 32 | 128; value: bigint } | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { bits: 32, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { bits: 128, value: v6 };
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)) {
    return undefined;
  }
  return parts.reduce((sum, part) => (sum << 8n) + BigInt(part), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  // An embedded IPv4 address (::ffff:10.0.0.1) may only end the address.
  const groupsOf = (half: string | undefined, endsAddress: boolean): string[] | undefined => {
    if (half === undefined || half === '') return [];
    const groups = half.split(':');
    const last = groups.at(-1) as string;
    const v4 = endsAddress && last.includes('.') ? parseIpv4(last) : undefined;
    if (last.includes('.') && v4 === undefined) return undefined;
    if (v4 !== undefined)
      groups.splice(-1, 1, ((v4 >> 16n) & 0xffffn).toString(16), (v4 & 0xffffn).toString(16));
    return groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group)) ? groups : undefined;
  };
  const head = groupsOf(halves[0], halves.length === 1);
  const tail = groupsOf(halves[1], true);
  if (head === undefined || tail === undefined) return undefined;
  const compressed = halves.length === 2;
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(compressed ? missing : 0).fill('0'), ...tail];
  return groups.reduce((sum, group) => (sum << 16n) + BigInt(Number.parseInt(group, 16)), 0n);
}
