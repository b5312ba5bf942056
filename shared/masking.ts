const MASK = '*';
// The first-generation 15-digit citizen ID is the shortest number the "first 6, last 4" rule was made
// for; anything shorter would show most of itself, so it is masked entirely.
const SHORTEST_PARTLY_SHOWN_ID = 15;
// A mainland mobile number has 11 digits; shorter numbers would show nearly all their digits.
const SHORTEST_PARTLY_SHOWN_PHONE = 11;

/** `110101********1234`: first 6 and last 4 characters kept. */
export function maskIdNumber(idNumber: string): string {
  return keepEnds(idNumber.trim(), 6, 4, SHORTEST_PARTLY_SHOWN_ID);
}

/** `张**` / `J*********`: only the first character is kept; a one-character name is fully masked. */
export function maskName(name: string): string {
  const characters = [...name.trim()];
  if (characters.length <= 1) return MASK.repeat(characters.length);
  return `${characters[0]}${MASK.repeat(characters.length - 1)}`;
}

/** `138****5678`: first 3 and last 4 characters kept. */
export function maskPhone(phone: string): string {
  return keepEnds(phone.trim(), 3, 4, SHORTEST_PARTLY_SHOWN_PHONE);
}

// Iterates by code point so that a masked value has as many characters as the original.
function keepEnds(value: string, head: number, tail: number, shortestPartlyShown: number): string {
  const characters = [...value];
  if (characters.length < shortestPartlyShown) return MASK.repeat(characters.length);
  const hidden = characters.length - head - tail;
  return [
    ...characters.slice(0, head),
    MASK.repeat(hidden),
    ...characters.slice(characters.length - tail),
  ].join('');
}
