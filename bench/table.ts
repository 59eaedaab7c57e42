/** Prints rows as a markdown table (the format BENCHMARKS.md keeps). */
export function printTable(rows: ReadonlyArray<readonly string[]>, header: readonly string[] = ['benchmark', 'result', 'notes']): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

/** The best of `runs` results by `score` (the machine's noise only ever slows a run down). */
export async function best<T>(runs: number, f: () => T | Promise<T>, score: (t: T) => number): Promise<T> {
  let top: T | undefined;
  for (let i = 0; i < runs; i++) {
    const r = await f();
    if (top === undefined || score(r) > score(top)) top = r;
  }
  return top!;
}

/** The value at quantile q (0..1) of an ascending list, nearest rank. */
export function quantile(ascending: readonly number[], q: number): number {
  if (ascending.length === 0) return Number.NaN;
  const rank = Math.min(ascending.length - 1, Math.max(0, Math.ceil(q * ascending.length) - 1));
  return ascending[rank]!;
}
