/**
 * A local EventBridge that the real `@aws-sdk/client-eventbridge` talks to (JSON 1.1 protocol, reached
 * through AWS_ENDPOINT_URL_EVENTBRIDGE). PutEvents validates like AWS, builds the event envelope, and
 * delivers it in the background to every enabled rule of the bus whose pattern matches.
 * Rules and buses come from the synthesised template, so nothing here is configured by hand.
 */
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { EventEnvelope as EventEnvelopeOf } from '../../events/envelope';
import { mayCrossToPrivateCloud } from '../cross-cloud';
import { listenOnLoopback } from './engines/ports';
import { matchesPattern } from './event-pattern';
import { type EventBusModel, type HubModel, LOCAL_ACCOUNT, LOCAL_REGION, type RuleModel } from './model';
import type { TargetDelivery } from './targets';

export interface EventBridgeOptions {
  model: HubModel;
  /** 0 picks a free port. */
  port: number;
  deliver: TargetDelivery;
  /** Each accepted event is appended here as one JSON line (the CLI tails it). */
  logFile?: string;
  log?: (entry: Record<string, unknown>) => void;
  /**
   * Whether an event may be delivered from a bus of one stack to a bus of another. In the cloud the private bus's
   * resource policy and the forwarding rule's pattern decide; locally this plays the policy. Default: the one
   * cross-cloud allow-list (infra/cross-cloud.ts).
   */
  mayCross?: (source: string, detailType: string) => boolean;
}

export interface RunningEventBridge {
  endpoint: string;
  /** Closes the server, then waits for deliveries still in flight. */
  stop(): Promise<void>;
  /** How many events PutEvents has accepted. */
  published(): number;
  /** Resolves once no delivery is in flight. */
  idle(): Promise<void>;
}

/** The EventBridge event envelope every target receives (one definition, in events/). */
export type EventEnvelope = EventEnvelopeOf<Record<string, unknown>>;

export const DEFAULT_BUS_NAME = 'default';
/** AWS's limit on one PutEvents request, counted as AWS counts entry sizes. */
export const MAX_REQUEST_BYTES = 256 * 1024;
const MAX_ENTRIES = 10;

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export async function startEventBridge(options: EventBridgeOptions): Promise<RunningEventBridge> {
  const log = options.log ?? logToStderr;
  const inFlight = new Set<Promise<void>>();
  let publishedCount = 0;
  let logWrites: Promise<void> = Promise.resolve();

  const track = (delivery: Promise<void>) => {
    const tracked = delivery.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  const accept = (envelope: EventEnvelope, bus: EventBusModel) => {
    publishedCount++;
    if (options.logFile) {
      const line = `${JSON.stringify({ eventBusName: bus.busName, ...envelope })}\n`;
      const file = options.logFile;
      logWrites = logWrites
        .then(() => appendFile(file, line))
        .catch((error: unknown) =>
          log({ level: 'ERROR', message: 'cannot append to the event log', error: String(error) }),
        );
      track(logWrites);
    }
    for (const rule of rulesMatching(options.model, bus, envelope)) {
      for (const target of rule.targets) {
        if (!crossingAllowed(rule, target, envelope, options.mayCross ?? mayCrossToPrivateCloud)) {
          log({
            level: 'WARN',
            message: 'event refused at the cloud boundary (not in the cross-cloud allow-list)',
            rule: rule.key,
            eventId: envelope.id,
            detailType: envelope['detail-type'],
          });
          continue;
        }
        track(
          options.deliver(target, envelope).catch((error: unknown) =>
            log({
              level: 'ERROR',
              message: 'delivery failed',
              rule: rule.key,
              eventId: envelope.id,
              error: String(error),
            }),
          ),
        );
      }
    }
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    PutEvents: (input) => putEvents(options.model, input, accept),
    ListRules: (input) => listRules(options.model, input),
    DescribeEventBus: (input) => describeEventBus(options.model, input),
    ListEventBuses: () => ({ EventBuses: allBuses(options.model).map(describeBus) }),
  };

  const server = createServer((req, res) => {
    serve(req, res, operations).catch((error: unknown) => {
      log({ level: 'ERROR', message: 'local EventBridge failed a request', error: String(error) });
      if (!res.headersSent) writeError(res, new ApiError('InternalException', 'Internal error.', 500));
    });
  });
  const port = await listenOnLoopback(server, options.port);

  const idle = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    published: () => publishedCount,
    idle,
    stop: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      });
      await idle();
    },
  };
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  operations: Record<string, (input: Record<string, unknown>) => unknown>,
): Promise<void> {
  const body = await readText(req);
  const target = String(req.headers['x-amz-target'] ?? '');
  const operation = target.startsWith('AWSEvents.')
    ? operations[target.slice('AWSEvents.'.length)]
    : undefined;
  if (req.method !== 'POST' || !operation) {
    return writeError(
      res,
      new ApiError('UnknownOperationException', `Operation ${target || '(none)'} is not supported locally.`),
    );
  }
  let input: unknown;
  try {
    input = body === '' ? {} : JSON.parse(body);
  } catch {
    return writeError(res, new ApiError('SerializationException', 'The request body is not valid JSON.'));
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return writeError(res, new ApiError('SerializationException', 'The request body must be a JSON object.'));
  }
  try {
    writeJson(res, 200, operation(input as Record<string, unknown>));
  } catch (error) {
    if (error instanceof ApiError) return writeError(res, error);
    throw error;
  }
}

interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

function putEvents(
  model: HubModel,
  input: Record<string, unknown>,
  accept: (envelope: EventEnvelope, bus: EventBusModel) => void,
) {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
    throw new ApiError('ValidationException', `Entries must hold between 1 and ${MAX_ENTRIES} entries.`);
  }
  const totalBytes = entries.reduce<number>((sum, entry) => sum + entrySize(entry), 0);
  if (totalBytes > MAX_REQUEST_BYTES) {
    throw new ApiError('ValidationException', 'Total size of the entries in the request is over the limit.');
  }
  const results = entries.map((entry: unknown): PutEventsResultEntry => {
    const checked = checkEntry(model, entry);
    if ('ErrorCode' in checked) return checked;
    accept(checked.envelope, checked.bus);
    return { EventId: checked.envelope.id };
  });
  return { FailedEntryCount: results.filter((result) => result.ErrorCode).length, Entries: results };
}

type CheckedEntry =
  | { envelope: EventEnvelope; bus: EventBusModel }
  | { ErrorCode: string; ErrorMessage: string };

function checkEntry(model: HubModel, raw: unknown): CheckedEntry {
  const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const missing = (['Source', 'DetailType', 'Detail'] as const).find(
    (field) => typeof entry[field] !== 'string' || entry[field] === '',
  );
  if (missing) {
    return invalid(
      'InvalidArgument',
      `Parameter ${missing} is not valid. Reason: ${missing} is a required argument.`,
    );
  }
  const source = entry.Source as string;
  if (source.startsWith('aws.')) {
    return invalid('NotAuthorizedForSourceException', 'Not authorized for the source.');
  }
  const detail = parseDetail(entry.Detail as string);
  if (!detail) return invalid('MalformedDetail', 'Detail is malformed.');
  const busName =
    typeof entry.EventBusName === 'string' && entry.EventBusName !== ''
      ? entry.EventBusName
      : DEFAULT_BUS_NAME;
  const bus = findBus(model, busName);
  if (!bus) return invalid('ResourceNotFoundException', `Event bus ${busName} does not exist.`);
  const resources = Array.isArray(entry.Resources) ? entry.Resources.map(String) : [];
  return {
    bus,
    envelope: {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType as string,
      source,
      account: LOCAL_ACCOUNT,
      time: formatEventTime(eventTime(entry.Time)),
      region: LOCAL_REGION,
      resources,
      detail,
    },
  };
}

const invalid = (ErrorCode: string, ErrorMessage: string) => ({ ErrorCode, ErrorMessage });

function parseDetail(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The SDK sends `Time` as epoch seconds; AWS uses the publish time when it is absent. */
function eventTime(time: unknown): Date {
  if (typeof time === 'number' && Number.isFinite(time)) return new Date(time * 1000);
  if (typeof time === 'string' && !Number.isNaN(Date.parse(time))) return new Date(time);
  return new Date();
}

/** EventBridge writes times without fractional seconds: `2026-11-21T02:00:00Z`. */
function formatEventTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/** Counted the way AWS documents PutEvents entry size. */
export function entrySize(raw: unknown): number {
  if (typeof raw !== 'object' || raw === null) return 0;
  const entry = raw as Record<string, unknown>;
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  const resources = Array.isArray(entry.Resources)
    ? entry.Resources.reduce<number>((sum, r) => sum + bytes(r), 0)
    : 0;
  return (
    (entry.Time === undefined ? 0 : 14) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    resources
  );
}

/** A bus target in another stack than the rule's bus is a crossing between the clouds: only the allow-list passes. */
function crossingAllowed(
  rule: RuleModel,
  target: RuleModel['targets'][number],
  envelope: EventEnvelope,
  mayCross: (source: string, detailType: string) => boolean,
): boolean {
  if (target.kind !== 'bus') return true;
  const from = stackOfKey(rule.busKey);
  const to = stackOfKey(target.busKey);
  if (from === undefined || to === undefined || from === to) return true;
  return mayCross(envelope.source, envelope['detail-type']);
}

/** `stack/LogicalId` → `stack`; the account's default bus belongs to no stack. */
const stackOfKey = (key: string): string | undefined => {
  const slash = key.indexOf('/');
  return slash > 0 ? key.slice(0, slash) : undefined;
};

function rulesMatching(model: HubModel, bus: EventBusModel, envelope: EventEnvelope): RuleModel[] {
  return model.rules.filter(
    (rule) => rule.enabled && rule.busKey === bus.key && matchesPattern(rule.eventPattern, envelope),
  );
}

/** The default bus exists in every account without being declared; rules on it carry busKey `default`. */
function allBuses(model: HubModel): EventBusModel[] {
  const declaresDefault = model.buses.some((bus) => bus.busName === DEFAULT_BUS_NAME);
  const defaultBus: EventBusModel = {
    key: DEFAULT_BUS_NAME,
    busName: DEFAULT_BUS_NAME,
    arn: busArn(DEFAULT_BUS_NAME),
  };
  return declaresDefault ? model.buses : [defaultBus, ...model.buses];
}

/** By name or by ARN, as every EventBusName parameter accepts. */
function findBus(model: HubModel, nameOrArn: string): EventBusModel | undefined {
  return allBuses(model).find((bus) => bus.busName === nameOrArn || bus.arn === nameOrArn);
}

const busArn = (name: string) => `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:event-bus/${name}`;

function describeBus(bus: EventBusModel) {
  return { Name: bus.busName, Arn: bus.arn };
}

function describeEventBus(model: HubModel, input: Record<string, unknown>) {
  const name = typeof input.Name === 'string' && input.Name !== '' ? input.Name : DEFAULT_BUS_NAME;
  const bus = findBus(model, name);
  if (!bus) throw new ApiError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
  return describeBus(bus);
}

/** Rule names are the template's logical ids: CloudFormation would add a suffix, which tells nobody anything. */
export function ruleName(rule: RuleModel): string {
  return rule.key.split('/').pop() ?? rule.key;
}

function listRules(model: HubModel, input: Record<string, unknown>) {
  const busName =
    typeof input.EventBusName === 'string' && input.EventBusName !== ''
      ? input.EventBusName
      : DEFAULT_BUS_NAME;
  const bus = findBus(model, busName);
  if (!bus) throw new ApiError('ResourceNotFoundException', `Event bus ${busName} does not exist.`);
  const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
  const rules = model.rules.filter((rule) => rule.busKey === bus.key && ruleName(rule).startsWith(prefix));
  const start = typeof input.NextToken === 'string' ? Number.parseInt(input.NextToken, 10) || 0 : 0;
  const limit = typeof input.Limit === 'number' && input.Limit > 0 ? input.Limit : 100;
  const page = rules.slice(start, start + limit);
  const nextStart = start + page.length;
  return {
    Rules: page.map((rule) => ({
      Name: ruleName(rule),
      Arn: ruleArn(bus, rule),
      EventPattern: JSON.stringify(rule.eventPattern),
      State: rule.enabled ? 'ENABLED' : 'DISABLED',
      EventBusName: bus.busName,
    })),
    ...(nextStart < rules.length ? { NextToken: String(nextStart) } : {}),
  };
}

function ruleArn(bus: EventBusModel, rule: RuleModel): string {
  const path = bus.busName === DEFAULT_BUS_NAME ? ruleName(rule) : `${bus.busName}/${ruleName(rule)}`;
  return `arn:aws:events:${LOCAL_REGION}:${LOCAL_ACCOUNT}:rule/${path}`;
}

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function writeJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.1',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(body);
}

function writeError(res: ServerResponse, error: ApiError): void {
  writeJson(res, error.status, { __type: error.code, message: error.message });
}

function logToStderr(entry: Record<string, unknown>): void {
  process.stderr.write(
    `${JSON.stringify({ component: 'eventbridge', timestamp: new Date().toISOString(), ...entry })}\n`,
  );
}
