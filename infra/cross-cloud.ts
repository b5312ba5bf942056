/**
 * The only events allowed to cross from the public cloud (internet-facing, no personal data at rest) into the
 * private cloud (government extranet). Everything else stays on its side: the private cloud publishes to the
 * public one only as non-personal assessment snapshots (S3 replication of the published prefix).
 *
 * Used by the CDK app (the forwarding rule on the public bus, the private bus's cross-account policy) and by the
 * local runtime (bus-to-bus deliveries), so all of them let exactly the same set through. Adding an entry widens
 * the private cloud's attack surface: give the reason next to it.
 */
export interface CrossCloudEvent {
  source: string;
  detailType: string;
  why: string;
}

export const PUBLIC_TO_PRIVATE_EVENTS: readonly CrossCloudEvent[] = [
  {
    source: 'zwfw.evaluation-ingest',
    detailType: 'EvaluationSubmitted',
    why: "citizens rate services from their app through the public cloud (DESIGN §1.4); the private cloud's evaluation ingest judges and stores them",
  },
];

/** The detail types of the allow-list (what the private bus's cross-account policy names). */
export const PUBLIC_TO_PRIVATE_DETAIL_TYPES: readonly string[] = unique(
  PUBLIC_TO_PRIVATE_EVENTS.map((entry) => entry.detailType),
);
export const PUBLIC_TO_PRIVATE_SOURCES: readonly string[] = unique(
  PUBLIC_TO_PRIVATE_EVENTS.map((entry) => entry.source),
);

/** Whether an event with this source and detail type may cross: the one check the local runtime applies. */
export function mayCrossToPrivateCloud(source: string, detailType: string): boolean {
  return PUBLIC_TO_PRIVATE_EVENTS.some((entry) => entry.source === source && entry.detailType === detailType);
}

export type CrossCloudPattern = { source: string[]; 'detail-type': string[] };

/**
 * EventBridge pattern of the forwarding rule; undefined when nothing may cross. A pattern matches the product of
 * its lists, so entries whose sources differ would admit mixed pairs: refused until a second rule is written.
 */
export function publicToPrivateEventPattern(): CrossCloudPattern | undefined {
  if (PUBLIC_TO_PRIVATE_EVENTS.length === 0) return undefined;
  if (PUBLIC_TO_PRIVATE_SOURCES.length > 1) {
    throw new Error(
      'cross-cloud allow-list: one source per forwarding rule (see publicToPrivateEventPattern)',
    );
  }
  return { source: [...PUBLIC_TO_PRIVATE_SOURCES], 'detail-type': [...PUBLIC_TO_PRIVATE_DETAIL_TYPES] };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
