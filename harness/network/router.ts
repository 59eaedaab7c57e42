import { InvalidConfigError } from '../../src/raft/errors.js';
import { createRandom, deriveSeed, type Random } from '../../src/raft/random.js';

/**
 * How long a message takes, in virtual ms: a range [min, max] (uniform), or a distribution. Every
 * draw comes from the network's seeded PRNG, and is rounded to whole ms and clamped at 0.
 */
export type Latency =
  | readonly [min: number, max: number]
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  | { readonly kind: 'normal'; readonly mean: number; readonly stddev: number }
  | { readonly kind: 'exponential'; readonly mean: number; readonly min?: number };

export type NetworkConfig = {
  readonly latency: Latency;
  /** Probability that a message is lost. */
  readonly drop: number;
  /** Probability that a message is delivered twice (the copy at its own latency). */
  readonly duplicate: number;
  /** Probability that a message is held back by an extra `reorderDelay`, letting later ones pass it. */
  readonly reorder: number;
  /** The extra delay of a reordered message, virtual ms. */
  readonly reorderDelay: readonly [min: number, max: number];
};

export const DEFAULT_NETWORK: NetworkConfig = { latency: [1, 10], drop: 0, duplicate: 0, reorder: 0, reorderDelay: [10, 100] };

/** A message travelling between two endpoints, due at a virtual time. */
export type InFlight = {
  /** Unique, increasing in send order: the last tie-breaker of the scheduler. */
  readonly id: number;
  readonly from: string;
  readonly to: string;
  readonly type: string;
  /** The sender's term, when the message carries one. */
  readonly term: number | null;
  /**
   * The log index the message is about, when it has one: AppendEntries, its first entry's index
   * (or prevLogIndex when empty); AppendEntriesReply, matchIndex; RequestVote and PreVote,
   * lastLogIndex.
   */
  readonly index: number | null;
  readonly sentAt: number;
  readonly due: number;
  readonly message: { readonly to: string; readonly [key: string]: unknown };
};

export type TrafficCount = { messages: number; bytes: number };

/** Messages and bytes (of their JSON form) sent, per sender and per type, cut or not. */
export type Counters = {
  readonly total: TrafficCount;
  readonly byNode: Readonly<Record<string, TrafficCount>>;
  readonly byType: Readonly<Record<string, TrafficCount>>;
};

function num(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

/** The index a message is about (see InFlight.index). */
export function messageIndex(m: Readonly<Record<string, unknown>>): number | null {
  switch (m['type']) {
    case 'AppendEntries': {
      const entries = m['entries'];
      const first = Array.isArray(entries) && entries.length > 0 ? num((entries[0] as Record<string, unknown>)['index']) : null;
      return first ?? num(m['prevLogIndex']);
    }
    case 'AppendEntriesReply':
      return num(m['matchIndex']);
    case 'RequestVote':
    case 'PreVote':
      return num(m['lastLogIndex']);
    default:
      return null;
  }
}

/**
 * The simulated network: which links are cut, and how a sent message turns into zero, one or two
 * deliveries at seeded random delays. Messages crossing a cut are lost, as on a real network.
 */
export class Router {
  private config: NetworkConfig;
  /** Per directed link `from>to`: settings merged over the global ones. */
  private readonly links = new Map<string, Partial<NetworkConfig>>();
  private readonly random: Random;
  /** Directed cuts `from>to`. */
  private readonly cuts = new Set<string>();
  /** Endpoints cut off from everyone, including endpoints (clients) that appear later. */
  private readonly isolated = new Set<string>();
  private nextId = 1;
  private readonly total: TrafficCount = { messages: 0, bytes: 0 };
  private readonly byNode = new Map<string, TrafficCount>();
  private readonly byType = new Map<string, TrafficCount>();

  constructor(seed: number, config: Partial<NetworkConfig> = {}) {
    this.config = { ...DEFAULT_NETWORK, ...validateNetwork(config) };
    this.random = createRandom(deriveSeed(seed, 'network'));
  }

  /** Merges into the global settings, or into one link's (`from` → `to`). */
  configure(config: Partial<NetworkConfig>, link?: { readonly from: string; readonly to: string }): void {
    const valid = validateNetwork(config);
    if (link === undefined) this.config = { ...this.config, ...valid };
    else this.links.set(`${link.from}>${link.to}`, { ...this.links.get(`${link.from}>${link.to}`), ...valid });
  }

  /** The settings in force on one link. */
  settings(from?: string, to?: string): NetworkConfig {
    if (from === undefined || to === undefined) return this.config;
    return { ...this.config, ...this.links.get(`${from}>${to}`) };
  }

  cut(from: string, to: string): void {
    this.cuts.add(`${from}>${to}`);
  }

  connect(from: string, to: string): void {
    this.cuts.delete(`${from}>${to}`);
  }

  isCut(from: string, to: string): boolean {
    return this.isolated.has(from) || this.isolated.has(to) || this.cuts.has(`${from}>${to}`);
  }

  isolate(id: string): void {
    this.isolated.add(id);
  }

  /** Ends an isolation and every cut to or from `id`. */
  reconnect(id: string): void {
    this.isolated.delete(id);
    for (const cut of [...this.cuts]) {
      const [from, to] = cut.split('>');
      if (from === id || to === id) this.cuts.delete(cut);
    }
  }

  heal(): void {
    this.cuts.clear();
    this.isolated.clear();
  }

  counters(): Counters {
    const copy = (m: Map<string, TrafficCount>): Record<string, TrafficCount> =>
      Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, { ...v }]));
    return { total: { ...this.total }, byNode: copy(this.byNode), byType: copy(this.byType) };
  }

  /** What a send becomes: nothing (cut or dropped), one delivery, or two (duplicated). */
  route(from: string, message: InFlight['message'], now: number): InFlight[] {
    const type = typeof message['type'] === 'string' ? message['type'] : 'unknown';
    this.count(from, type, message);
    if (this.isCut(from, message.to)) return [];
    const c = this.settings(from, message.to);
    if (c.drop > 0 && this.random() < c.drop) return [];
    const copies = c.duplicate > 0 && this.random() < c.duplicate ? 2 : 1;
    const out: InFlight[] = [];
    for (let i = 0; i < copies; i++) {
      let delay = this.draw(c.latency);
      if (c.reorder > 0 && this.random() < c.reorder) delay += this.uniform(c.reorderDelay[0], c.reorderDelay[1]);
      out.push({
        id: this.nextId++,
        from,
        to: message.to,
        type,
        term: num(message['term']),
        index: messageIndex(message),
        sentAt: now,
        due: now + delay,
        message,
      });
    }
    return out;
  }

  private count(from: string, type: string, message: unknown): void {
    const bytes = JSON.stringify(message).length;
    const add = (map: Map<string, TrafficCount>, key: string): void => {
      const c = map.get(key);
      if (c) {
        c.messages += 1;
        c.bytes += bytes;
      } else {
        map.set(key, { messages: 1, bytes });
      }
    };
    this.total.messages += 1;
    this.total.bytes += bytes;
    add(this.byNode, from);
    add(this.byType, type);
  }

  private uniform(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }

  private draw(latency: Latency): number {
    if (Array.isArray(latency)) return this.uniform(latency[0]!, latency[1]!);
    const l = latency as Exclude<Latency, readonly [number, number]>;
    switch (l.kind) {
      case 'uniform':
        return this.uniform(l.min, l.max);
      case 'normal': {
        // Box–Muller, from two draws of the seeded PRNG.
        const u = 1 - this.random();
        const v = this.random();
        const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
        return Math.max(0, Math.round(l.mean + l.stddev * z));
      }
      case 'exponential':
        return Math.max(l.min ?? 0, Math.round(-l.mean * Math.log(1 - this.random())));
      default:
        return assertNever(l);
    }
  }
}

/** Checks network settings, throwing InvalidConfigError naming the field and what is allowed. */
export function validateNetwork(config: Partial<Record<keyof NetworkConfig, unknown>>): Partial<NetworkConfig> {
  const out: { -readonly [K in keyof NetworkConfig]?: NetworkConfig[K] } = {};
  const nonNegative = (field: string, v: unknown): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidConfigError(field, v, 'a finite number >= 0');
    return v;
  };
  const range = (field: string, r: unknown): [number, number] => {
    if (!Array.isArray(r) || r.length !== 2 || !r.every((x) => Number.isSafeInteger(x) && x >= 0) || r[0] > r[1]) {
      throw new InvalidConfigError(field, r, 'a pair [min, max] of integers, 0 <= min <= max');
    }
    return [r[0], r[1]];
  };
  if (config.latency !== undefined) {
    const l = config.latency as Record<string, unknown> | unknown[];
    if (Array.isArray(l)) {
      out.latency = range('network.latency', l);
    } else if (typeof l === 'object' && l !== null && l['kind'] === 'uniform') {
      const [min, max] = range('network.latency', [l['min'], l['max']]);
      out.latency = { kind: 'uniform', min, max };
    } else if (typeof l === 'object' && l !== null && l['kind'] === 'normal') {
      out.latency = { kind: 'normal', mean: nonNegative('network.latency.mean', l['mean']), stddev: nonNegative('network.latency.stddev', l['stddev']) };
    } else if (typeof l === 'object' && l !== null && l['kind'] === 'exponential') {
      const min = l['min'] === undefined ? undefined : nonNegative('network.latency.min', l['min']);
      out.latency = { kind: 'exponential', mean: nonNegative('network.latency.mean', l['mean']), ...(min === undefined ? {} : { min }) };
    } else {
      throw new InvalidConfigError(
        'network.latency',
        l,
        "[min, max], { kind: 'uniform', min, max }, { kind: 'normal', mean, stddev } or { kind: 'exponential', mean, min? }",
      );
    }
  }
  for (const key of ['drop', 'duplicate', 'reorder'] as const) {
    const v = config[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new InvalidConfigError(`network.${key}`, v, 'a probability in [0, 1)');
    out[key] = v;
  }
  if (config.reorderDelay !== undefined) out.reorderDelay = range('network.reorderDelay', config.reorderDelay);
  return out;
}

function assertNever(value: never): never {
  throw new Error(`raft-harness: unreachable ${JSON.stringify(value)}`);
}
