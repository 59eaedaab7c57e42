import { InvalidConfigError } from '../src/raft/errors.js';
import { ROLES, type Role } from '../src/raft/types.js';

/** What a message filter sees. */
export type MessageFilter = {
  readonly type: string;
  readonly from?: string;
  readonly to?: string;
  /** Further condition on the whole message (for example: carries entries). */
  readonly where?: (message: Readonly<Record<string, unknown>>) => boolean;
};

type NodeFilter = { readonly node?: string };

/** A pause condition. Build them with `when.*`. */
export type Trigger =
  | ({ readonly kind: 'messageSent' } & MessageFilter)
  | ({ readonly kind: 'messageReceived' } & MessageFilter)
  | ({ readonly kind: 'role'; readonly role: Role } & NodeFilter)
  | ({ readonly kind: 'term'; readonly term: number } & NodeFilter)
  | ({ readonly kind: 'commitIndex'; readonly index: number } & NodeFilter)
  | ({ readonly kind: 'applied'; readonly index: number } & NodeFilter)
  | ({ readonly kind: 'logIndex'; readonly index: number } & NodeFilter)
  | { readonly kind: 'electionDone' }
  | { readonly kind: 'all'; readonly triggers: readonly Trigger[] }
  | { readonly kind: 'any'; readonly triggers: readonly Trigger[] };

/** Where a trigger was hit: which node, why, and when. */
export type TriggerHit = {
  readonly node: string;
  readonly reason: string;
  readonly time: number;
  /** The message, for message triggers. */
  readonly message?: Readonly<Record<string, unknown>>;
};

export const when = {
  /** After a matching message is sent, before it is delivered. */
  messageSent: (filter: MessageFilter): Trigger => ({ kind: 'messageSent', ...filter }),
  /** Before the receiver processes a matching message. */
  messageReceived: (filter: MessageFilter): Trigger => ({ kind: 'messageReceived', ...filter }),
  /** Right after a node (any, or `node`) takes `role`. */
  role: (role: Role, options: NodeFilter = {}): Trigger => ({ kind: 'role', role, ...options }),
  /** Right after a node's term reaches `term`. */
  term: (term: number, options: NodeFilter = {}): Trigger => ({ kind: 'term', term, ...options }),
  commitIndex: (index: number, options: NodeFilter = {}): Trigger => ({ kind: 'commitIndex', index, ...options }),
  applied: (index: number, options: NodeFilter = {}): Trigger => ({ kind: 'applied', index, ...options }),
  /** Right after a node's log (as synced) reaches `index`. */
  logIndex: (index: number, options: NodeFilter = {}): Trigger => ({ kind: 'logIndex', index, ...options }),
  /** Right after some node wins an election. */
  electionDone: (): Trigger => ({ kind: 'electionDone' }),
  /** Every one has been hit (not necessarily at once). */
  all: (...triggers: Trigger[]): Trigger => ({ kind: 'all', triggers }),
  /** The first of them. */
  any: (...triggers: Trigger[]): Trigger => ({ kind: 'any', triggers }),
} as const;

/** Checks a trigger's values against the cluster: node ids and, for Raft, message types. */
export function validateTrigger(trigger: Trigger, ids: readonly string[], messageTypes: readonly string[] | null, path = 'trigger'): void {
  const node = (value: string | undefined, field: string): void => {
    if (value !== undefined && !ids.includes(value)) {
      throw new InvalidConfigError(`${path}.${field}`, value, `a node id (${ids.join(', ')})`);
    }
  };
  const count = (value: number, field: string): void => {
    if (!Number.isSafeInteger(value) || value < 0) throw new InvalidConfigError(`${path}.${field}`, value, 'an integer >= 0');
  };
  switch (trigger.kind) {
    case 'messageSent':
    case 'messageReceived':
      if (messageTypes !== null && !messageTypes.includes(trigger.type)) {
        throw new InvalidConfigError(`${path}.type`, trigger.type, `a message type: ${messageTypes.join(', ')}`);
      }
      if (messageTypes === null && (typeof trigger.type !== 'string' || trigger.type.length === 0)) {
        throw new InvalidConfigError(`${path}.type`, trigger.type, 'a message type name');
      }
      node(trigger.from, 'from');
      node(trigger.to, 'to');
      return;
    case 'role':
      if (!ROLES.includes(trigger.role)) throw new InvalidConfigError(`${path}.role`, trigger.role, ROLES.join(', '));
      node(trigger.node, 'node');
      return;
    case 'term':
      count(trigger.term, 'term');
      node(trigger.node, 'node');
      return;
    case 'commitIndex':
    case 'applied':
    case 'logIndex':
      count(trigger.index, 'index');
      node(trigger.node, 'node');
      return;
    case 'electionDone':
      return;
    case 'all':
    case 'any':
      if (trigger.triggers.length === 0) throw new InvalidConfigError(`${path}.triggers`, [], 'at least one trigger');
      trigger.triggers.forEach((t, i) => validateTrigger(t, ids, messageTypes, `${path}.${trigger.kind}[${i}]`));
      return;
    default:
      return assertNever(trigger);
  }
}

/** One observation the cluster feeds to armed triggers. */
export type Observation =
  | { readonly kind: 'sent'; readonly node: string; readonly message: Readonly<Record<string, unknown>> }
  | { readonly kind: 'receiving'; readonly node: string; readonly message: Readonly<Record<string, unknown>> }
  | { readonly kind: 'event'; readonly node: string; readonly event: Readonly<Record<string, unknown>> & { readonly type: string } }
  | { readonly kind: 'logIndex'; readonly node: string; readonly index: number };

/**
 * An armed trigger. `all` latches each part as it is hit; the whole is hit by the observation
 * that completes it.
 */
export class ArmedTrigger {
  private readonly trigger: Trigger;
  private readonly latched = new Set<Trigger>();

  constructor(trigger: Trigger) {
    this.trigger = trigger;
  }

  observe(o: Observation, time: number): TriggerHit | null {
    return this.match(this.trigger, o, time);
  }

  private match(t: Trigger, o: Observation, time: number): TriggerHit | null {
    switch (t.kind) {
      case 'messageSent':
      case 'messageReceived': {
        if (o.kind !== (t.kind === 'messageSent' ? 'sent' : 'receiving')) return null;
        const m = o.message;
        if (m['type'] !== t.type) return null;
        if (t.from !== undefined && m['from'] !== t.from) return null;
        if (t.to !== undefined && m['to'] !== t.to) return null;
        if (t.where !== undefined && !t.where(m)) return null;
        const verb = t.kind === 'messageSent' ? 'sent' : 'about to receive';
        return { node: o.node, reason: `${o.node} ${verb} ${t.type} ${String(m['from'])}→${String(m['to'])}`, time, message: m };
      }
      case 'role':
      case 'term':
      case 'commitIndex':
      case 'applied':
      case 'electionDone': {
        if (o.kind !== 'event') return null;
        if (t.kind !== 'electionDone' && t.node !== undefined && t.node !== o.node) return null;
        const e = o.event;
        if ((t.kind === 'role' || t.kind === 'electionDone') && e.type === 'role') {
          const role = t.kind === 'role' ? t.role : 'leader';
          return e['to'] === role ? { node: o.node, reason: `${o.node} became ${role} in term ${String(e['term'])}`, time } : null;
        }
        if (t.kind === 'term' && e.type === 'term' && typeof e['to'] === 'number' && e['to'] >= t.term) {
          return { node: o.node, reason: `${o.node} reached term ${e['to']}`, time };
        }
        if (t.kind === 'commitIndex' && e.type === 'commit' && typeof e['to'] === 'number' && e['to'] >= t.index) {
          return { node: o.node, reason: `${o.node} committed up to ${e['to']}`, time };
        }
        if (t.kind === 'applied' && e.type === 'apply' && typeof e['index'] === 'number' && e['index'] >= t.index) {
          return { node: o.node, reason: `${o.node} applied ${e['index']}`, time };
        }
        return null;
      }
      case 'logIndex':
        if (o.kind !== 'logIndex' || (t.node !== undefined && t.node !== o.node) || o.index < t.index) return null;
        return { node: o.node, reason: `${o.node}'s log reached ${o.index}`, time };
      case 'any':
        for (const sub of t.triggers) {
          const hit = this.match(sub, o, time);
          if (hit) return hit;
        }
        return null;
      case 'all': {
        let last: TriggerHit | null = null;
        for (const sub of t.triggers) {
          if (this.latched.has(sub)) continue;
          const hit = this.match(sub, o, time);
          if (hit) {
            this.latched.add(sub);
            last = hit;
          }
        }
        if (last === null || !t.triggers.every((sub) => this.latched.has(sub))) return null;
        return { ...last, reason: `all hit; last: ${last.reason}` };
      }
      default:
        return assertNever(t);
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`raft-harness: unreachable ${JSON.stringify(value)}`);
}
