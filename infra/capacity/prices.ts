/**
 * The one price table of the capacity model (model.ts): on-demand LIST prices of region us-east-1 (N. Virginia), in
 * US dollars, as AWS published them on its pricing pages in 2025 (DynamoDB on-demand after the price cut of
 * 1 November 2024). They were written down from those public pages without network access from this machine:
 * check every line against https://aws.amazon.com/pricing before quoting a figure. Free tiers, savings plans,
 * reserved capacity and volume tiers beyond the first are left out on purpose, so the estimate errs high.
 * cn-north-1 (Beijing, operated by Sinnet) bills in CNY at other rates: replace this table, not the model, for it.
 */
export const PRICES = {
  region: 'us-east-1',
  currency: 'USD',
  asOf: '2025 list prices (unverified here: no internet access; check before use)',
  lambda: {
    /** Per request. */
    request: 0.2 / 1e6,
    /** Per GB-second, arm64 (every function of the hub is arm64), first tier. */
    gbSecondArm64: 0.0000133334,
  },
  apiGateway: {
    /** REST API, per request, first 333 M a month (private and regional APIs alike). */
    restRequest: 3.5 / 1e6,
  },
  dynamodb: {
    /** On-demand, standard table class, per write request unit (1 KB). */
    writeRequestUnit: 0.625 / 1e6,
    /** On-demand, per read request unit (4 KB strongly consistent, or two eventually consistent). */
    readRequestUnit: 0.125 / 1e6,
  },
  sqs: {
    /** Standard queue, per request (each 64 KB chunk of a payload is one request), after the free tier. */
    request: 0.4 / 1e6,
  },
  eventBridge: {
    /** Custom events published to a bus, per event (64 KB chunk). AWS service events on the default bus are free. */
    customEvent: 1.0 / 1e6,
  },
  s3: {
    /** S3 Standard, per GB-month, first 50 TB. */
    storageGbMonth: 0.023,
    /** PUT, COPY, POST, LIST, per request. */
    putRequest: 0.005 / 1000,
    /** GET and all other requests, per request. */
    getRequest: 0.0004 / 1000,
  },
} as const;

export type PriceTable = typeof PRICES;
