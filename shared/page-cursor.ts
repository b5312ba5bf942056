import * as z from 'zod';
import { validationFailed } from './problem';

/**
 * Opaque page cursors of the hub's lists (`?limit=&cursor=`): the DynamoDB key a page ended at, base64url JSON.
 * Decoding checks that the key lies in the partition being listed — the partition always comes from the caller
 * (a token's subject, a client id), never from the cursor — so a cursor cannot widen whose items are listed.
 */
export class ListCursorError extends Error {
  override readonly name = 'ListCursorError';
}

const cursorKeySchema = z.record(z.string(), z.string());

export const encodePageCursor = (key: Record<string, unknown>): string =>
  Buffer.from(JSON.stringify(key)).toString('base64url');

export function decodePageCursor(
  text: string,
  partition: { attribute: string; value: string },
): Record<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    raw = undefined;
  }
  const parsed = cursorKeySchema.safeParse(raw);
  if (!parsed.success || parsed.data[partition.attribute] !== partition.value) {
    throw new ListCursorError('The cursor is not one this listing handed out.');
  }
  return parsed.data;
}

/** Runs a listing; a cursor it refuses is the caller's error: 422 pointing at `/query/cursor`. */
export async function withCursorCheck<T>(list: () => Promise<T>): Promise<T> {
  try {
    return await list();
  } catch (error) {
    if (error instanceof ListCursorError) {
      throw validationFailed([{ path: '/query/cursor', message: error.message }]);
    }
    throw error;
  }
}

/** A page as the API answers it: the items, and a cursor only when there is more. */
export const pageBody = <T>(items: T[], cursor: string | undefined) => ({
  items,
  ...(cursor ? { cursor } : {}),
});
