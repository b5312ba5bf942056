/** Characters a typist could substitute: the identifier alphabets plus separators and blanks. */
export const SUBSTITUTES = [...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.- '];

/** Every value that differs from `value` in exactly one character. */
export function substitutions(value: string): string[] {
  const results: string[] = [];
  for (let i = 0; i < value.length; i++) {
    for (const c of SUBSTITUTES) {
      if (c !== value[i]) results.push(`${value.slice(0, i)}${c}${value.slice(i + 1)}`);
    }
  }
  return results;
}

/** Every value obtained by swapping two distinct neighbouring characters. */
export function adjacentTranspositions(value: string): string[] {
  return transpositions(value)
    .filter((t) => t.distance === 1)
    .map((t) => t.value);
}

export function transpositions(value: string): { i: number; j: number; distance: number; value: string }[] {
  const results = [];
  for (let i = 0; i < value.length; i++) {
    for (let j = i + 1; j < value.length; j++) {
      if (value[i] === value[j]) continue;
      const swapped = [...value];
      [swapped[i], swapped[j]] = [value[j] ?? '', value[i] ?? ''];
      results.push({ i, j, distance: j - i, value: swapped.join('') });
    }
  }
  return results;
}
