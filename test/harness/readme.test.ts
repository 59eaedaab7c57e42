import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');

// The README's examples run as tests; this keeps the two copies identical.
describe('README examples', () => {
  const blocks = [...read('../../README.md').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const localize = (code: string): string =>
    code.replace("from 'raft-harness/vitest'", "from '../../harness/vitest.js'").replace("from 'raft-harness'", "from '../../harness/index.js'");
  const strip = (file: string): string => file.split('\n').slice(1).join('\n');

  it.each([
    [0, './readme-cluster.test.ts'],
    [1, './readme-network.test.ts'],
  ])('block %i is the code of %s', (index, file) => {
    expect(blocks[index]).toBeDefined();
    expect(strip(read(file))).toBe(localize(blocks[index]!));
  });
});
