/**
 * The load the capacity model plans for: the national platform's published figures for its first 53 days
 * (DESIGN.md, DOMAIN.md "Scale"), and every figure nobody published, stated here as an ASSUMPTION with its reason.
 * Measured inputs (capacity per operation, status changes per case) never live here: they come from the latest
 * bench results, and the model refuses to run without them.
 */

/** 2019, first 53 days of the national platform's trial. */
export const NATIONAL_2019 = {
  days: 53,
  verifications: 26_780_000,
  licenceCalls: 2_180_000,
  cases: 49_890_000,
  /** 31 provinces + XPCC. */
  regions: 32,
  ministries: 46,
} as const;

export interface Assumptions {
  /** Status records per POST /v1/cases:batch (the API takes up to 500). */
  caseRecordsPerBatch: number;
  /** Evaluations (好差评) per case: not published nationally. */
  evaluationsPerCase: number;
  evaluationRecordsPerBatch: number;
  /** Share of evaluations that are bad reviews (levels 1–2) and open a rectification ticket. */
  badReviewShare: number;
  /** Licences registered at the hub per case (a case that ends in a licence). */
  licencesIssuedPerCase: number;
  /** Bytes of one licence file (OFD or PDF). */
  licenceFileBytes: number;
  /** Share of licence retrievals authorised by a case of the caller (one more read) rather than the holder's token. */
  caseAuthorisedRetrievalShare: number;
  /** Each retrieval's presigned URL is downloaded once. */
  downloadsPerRetrieval: number;
  /** Single sign-on sign-ins (ticket issued, then validated) per real-name verification. */
  signInsPerVerification: number;
  introspectionsPerSignIn: number;
  /** Single logouts (revocations) per sign-in. */
  revocationsPerSignIn: number;
  /** Each warm tokens-function instance asks for new revocations this often (token-store.ts). */
  revocationPollsPerSecondPerInstance: number;
  /** Share of all traffic from the largest province (its statistics buckets take that share of the writes). */
  largestProvinceShare: number;
  /** Connected clients: each keeps one authorizer result cached for the TTL. */
  clients: number;
  authorizerCacheSeconds: number;
  /** Lambda's SQS event-source mapping starts this many concurrent pollers per queue. */
  sqsPollers: number;
  /** Long-poll wait of an idle poller, seconds. */
  sqsLongPollSeconds: number;
  /** Invocation durations, ms: an API request, and per consumer a fixed part plus a part per message. */
  durations: {
    apiRequestMs: number;
    authorizerMs: number;
    consumerBaseMs: number;
    perMessageMs: Record<ConsumerRole, number>;
    rollupPerDayMs: number;
  };
}

export type ConsumerRole =
  | 'caseIngest'
  | 'caseEvents'
  | 'evaluations'
  | 'evaluationEvents'
  | 'licenceUploads';

export const ASSUMPTIONS: Assumptions = {
  caseRecordsPerBatch: 100,
  evaluationsPerCase: 0.5,
  evaluationRecordsPerBatch: 100,
  badReviewShare: 0.005,
  licencesIssuedPerCase: 0.05,
  licenceFileBytes: 200 * 1024,
  caseAuthorisedRetrievalShare: 0.5,
  downloadsPerRetrieval: 1,
  signInsPerVerification: 1,
  introspectionsPerSignIn: 5,
  revocationsPerSignIn: 0.1,
  revocationPollsPerSecondPerInstance: 2,
  largestProvinceShare: 0.12,
  clients: 120,
  authorizerCacheSeconds: 300,
  sqsPollers: 5,
  sqsLongPollSeconds: 20,
  durations: {
    apiRequestMs: 60,
    authorizerMs: 30,
    consumerBaseMs: 50,
    perMessageMs: {
      caseIngest: 10,
      caseEvents: 5,
      evaluations: 15,
      evaluationEvents: 10,
      licenceUploads: 150,
    },
    rollupPerDayMs: 60_000,
  },
};

/** Why each assumption has its value; printed with the model's output and copied into the README. */
export const ASSUMPTION_NOTES: readonly string[] = [
  'Load: the 2019 national figures per day (26.78 M verifications, 2.18 M licence calls, 49.89 M cases over 53 days) × --scale, spread evenly over the month; the peak second is the average second × --peak-factor.',
  'Every licence call is a retrieval (GET /v1/licences/{id}); half are authorised by a case of the caller (one extra read), half by the holder’s token; each presigned URL is downloaded once.',
  'Licences registered: 0.05 per case, files of 200 KB (not published; OFD/PDF licences are tens to hundreds of KB).',
  'Evaluations: 0.5 per case, 0.5 % bad reviews (not published nationally).',
  'Sign-ins: one per real-name verification, 5 introspections and 0.1 revocations per sign-in; each warm tokens instance polls revocations twice a second.',
  'Platforms push 100 records per batch (cases and evaluations; the API takes 500).',
  'The largest province sends 12 % of all traffic (Guangdong-sized); its statistics buckets take that share of the writes, spread over STATS_SHARDS partitions per day.',
  'Lambda durations are assumptions, not measurements: 60 ms per API request, 30 ms per authorizer call (cached 300 s for each of 120 clients), consumers 50 ms per batch plus 10 ms per case change, 5 ms per case event, 15 ms per evaluation, 10 ms per evaluation event, 150 ms per uploaded file; the rollup 60 s per day. Local bench latencies (8 requests in flight / rate) are of the same order.',
  'SQS event-source mappings: 5 pollers per queue, batches filled for the batching window of the template (1 s) or up to the batch size; idle pollers long-poll 20 s. EventBridge → SQS targets send one message per event; API functions send batches of 10.',
  'Not modelled: KMS requests (token signing, SSE-KMS), CloudWatch logs and metrics, X-Ray, data transfer, VPC endpoints and NAT-less networking hours, WAF, Secrets Manager, DynamoDB storage and PITR, the public cloud, the monthly rollup and the overdue sweeps.',
];
