/**
 * The only events allowed to cross from the public cloud (internet-facing, no personal data at rest)
 * into the private cloud (government extranet). Everything else stays on its side: the private cloud
 * publishes to the public one only as non-personal assessment snapshots.
 *
 * Used by the CDK app (the forwarding rule on the public bus) and by the local runtime, so both
 * forward exactly the same set. Adding a type here widens the private cloud's attack surface: give
 * the reason next to it.
 */
export const PUBLIC_TO_PRIVATE_DETAIL_TYPES: readonly { detailType: string; why: string }[] = [
  {
    detailType: 'EvaluationReceived',
    why: "citizens rate services from their app through the public cloud (DESIGN §1.4); the private cloud's evaluation ingest owns them",
  },
];

export const PUBLIC_TO_PRIVATE_SOURCE_PREFIX = 'zwfw.';

/** EventBridge pattern of the forwarding rule; undefined when nothing may cross. */
export function publicToPrivateEventPattern():
  | { source: { prefix: string }[]; 'detail-type': string[] }
  | undefined {
  if (PUBLIC_TO_PRIVATE_DETAIL_TYPES.length === 0) return undefined;
  return {
    source: [{ prefix: PUBLIC_TO_PRIVATE_SOURCE_PREFIX }],
    'detail-type': PUBLIC_TO_PRIVATE_DETAIL_TYPES.map((entry) => entry.detailType),
  };
}
