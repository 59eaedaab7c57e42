import type { InFlight } from './router.js';

/** Selects messages on the wire. Every given field must match; `where` sees the whole message. */
export type MessageMatch = {
  readonly type?: string;
  readonly from?: string;
  readonly to?: string;
  readonly term?: number;
  readonly index?: number;
  readonly where?: (message: InFlight) => boolean;
};

export function matches(filter: MessageMatch, m: InFlight): boolean {
  if (filter.type !== undefined && m.type !== filter.type) return false;
  if (filter.from !== undefined && m.from !== filter.from) return false;
  if (filter.to !== undefined && m.to !== filter.to) return false;
  if (filter.term !== undefined && m.term !== filter.term) return false;
  if (filter.index !== undefined && m.index !== filter.index) return false;
  return filter.where === undefined || filter.where(m);
}
