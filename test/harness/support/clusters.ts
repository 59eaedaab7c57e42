import { afterEach } from 'vitest';
import { Cluster, type ClusterOptions } from '../../../harness/cluster.js';

/**
 * A `start` for cluster tests that stops every cluster it started after each test, so a failing
 * test never leaves workers behind. `defaults` are merged under each call's options.
 */
export function useClusters(defaults: ClusterOptions = {}): (options?: ClusterOptions) => Promise<Cluster> {
  let open: Cluster[] = [];
  afterEach(async () => {
    await Promise.all(open.map((c) => c.stop()));
    open = [];
  });
  return async (options = {}) => {
    const cluster = await Cluster.start({ ...defaults, ...options });
    open.push(cluster);
    return cluster;
  };
}
