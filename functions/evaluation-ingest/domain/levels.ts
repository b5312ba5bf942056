/**
 * The five evaluation levels of 好差评 (GB/T 39734-2020), stored as 5..1. Levels 1–2 are bad reviews (差评): each
 * opens a rectification ticket.
 */
export const EVALUATION_LEVELS = [
  { level: 5, nameZh: '非常满意', name: 'very satisfied' },
  { level: 4, nameZh: '满意', name: 'satisfied' },
  { level: 3, nameZh: '基本满意', name: 'fairly satisfied' },
  { level: 2, nameZh: '不满意', name: 'dissatisfied' },
  { level: 1, nameZh: '非常不满意', name: 'very dissatisfied' },
] as const;

export type EvaluationLevel = (typeof EVALUATION_LEVELS)[number]['level'];

export const TOP_LEVEL = 5;
export const MIN_LEVEL = 1;
export const MAX_LEVEL = 5;

export const isBadReview = (level: number): boolean => level <= 2;

/** `5 非常满意, 4 满意, …`: for schema descriptions and the API docs. */
export const LEVEL_LEGEND = EVALUATION_LEVELS.map(
  ({ level, nameZh, name }) => `${level} ${nameZh} (${name})`,
).join(', ');
