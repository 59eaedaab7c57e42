import { createRandom, deriveSeed, type Random } from '../../src/raft/random.js';

export type NetworkConfig = {
  /** Delivery delay in virtual ms, uniform over [min, max]. */
  readonly latency: readonly [number, number];
  /** Probability that a message is lost. */
  readonly drop: number;
  /** Probability that a message is delivered twice. */
  readonly duplicate: number;
};

export const DEFAULT_NETWORK: NetworkConfig = { latency: [1, 10], drop: 0, duplicate: 0 };

/** A message travelling between two endpoints, due at a virtual time. */
export type InFlight = {
  /** Unique, increasing in send order: the last tie-breaker of the scheduler. */
  readonly id: number;
  readonly from: string;
  readonly to: string;
  readonly type: string;
  readonly sentAt: number;
  readonly due: number;
  readonly message: { readonly to: string; readonly [key: string]: unknown };
};

/**
 * The simulated network: which links are cut, and how a sent message turns into zero, one or two
 * deliveries at seeded random delays. Messages crossing a cut are lost, as on a real network.
 */
export class Router {
  private config: NetworkConfig;
  private readonly random: Random;
  /** Directed cuts `from>to`. */
  private readonly cuts = new Set<string>();
  private nextId = 1;

  constructor(seed: number, config: NetworkConfig = DEFAULT_NETWORK) {
    this.config = config;
    this.random = createRandom(deriveSeed(seed, 'network'));
  }

  configure(config: Partial<NetworkConfig>): void {
    this.config = { ...this.config, ...config };
  }

  get settings(): NetworkConfig {
    return this.config;
  }

  cut(from: string, to: string): void {
    this.cuts.add(`${from}>${to}`);
  }

  connect(from: string, to: string): void {
    this.cuts.delete(`${from}>${to}`);
  }

  isCut(from: string, to: string): boolean {
    return this.cuts.has(`${from}>${to}`);
  }

  heal(): void {
    this.cuts.clear();
  }

  /** What a send becomes: nothing (cut or dropped), one delivery, or two (duplicated). */
  route(from: string, message: InFlight['message'], now: number): InFlight[] {
    if (this.isCut(from, message.to)) return [];
    const { drop, duplicate, latency } = this.config;
    if (drop > 0 && this.random() < drop) return [];
    const copies = duplicate > 0 && this.random() < duplicate ? 2 : 1;
    const out: InFlight[] = [];
    for (let i = 0; i < copies; i++) {
      const delay = latency[0] + Math.floor(this.random() * (latency[1] - latency[0] + 1));
      out.push({
        id: this.nextId++,
        from,
        to: message.to,
        type: typeof message['type'] === 'string' ? (message['type'] as string) : 'unknown',
        sentAt: now,
        due: now + delay,
        message,
      });
    }
    return out;
  }
}
