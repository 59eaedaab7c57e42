import { isIP } from 'node:net';
import { InvalidConfigError } from '../../raft/errors.js';
import type { NodeId } from '../../raft/types.js';

export type HostPort = { readonly host: string; readonly port: number };

/** Where a node listens when only a port is given: loopback, so nothing is exposed by default. */
export const DEFAULT_HOST = '127.0.0.1';

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/;
const ADDRESS_FORMS = 'HOST:PORT, [IPv6]:PORT or PORT (on 127.0.0.1)';

export function formatHostPort(a: HostPort): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT` or a bare `PORT`. Port 0 (any free port) only where
 * `allowAnyPort`: a node may listen on one, but nobody can dial it.
 */
export function parseHostPort(field: string, text: string, allowAnyPort = false): HostPort {
  const minPort = allowAnyPort ? 0 : 1;
  const allowed = `${ADDRESS_FORMS} with PORT in ${minPort}..65535`;
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  if (!m) throw new InvalidConfigError(field, text, allowed);
  const host = m[1] || m[2] || DEFAULT_HOST;
  const port = Number(m[3]);
  if (port < minPort || port > 65535) throw new InvalidConfigError(field, text, allowed);
  if (m[1] ? isIP(host) !== 6 : isIP(host) === 0 && !HOSTNAME.test(host)) {
    throw new InvalidConfigError(field, text, `${allowed}; ${JSON.stringify(host)} is not an IP address or host name`);
  }
  return { host, port };
}

export function checkNodeId(field: string, id: string): NodeId {
  if (!NODE_ID.test(id)) throw new InvalidConfigError(field, id, 'a node id of letters, digits, "_", "." and "-" (1..64, starting with a letter or digit)');
  return id;
}

/**
 * Parses `ID=ADDRESS,ID=ADDRESS,...` into an ordered map. Ids must be distinct, and so must
 * addresses: two ids on one address would make a node talk to itself under another name.
 */
export function parsePeers(field: string, text: string, self?: NodeId): ReadonlyMap<NodeId, HostPort> {
  const peers = new Map<NodeId, HostPort>();
  const seen = new Set<string>();
  const items = text.split(',').map((s) => s.trim());
  if (text.trim() === '' || items.some((s) => s === '')) {
    throw new InvalidConfigError(field, text, 'a comma list of ID=ADDRESS, e.g. n2=127.0.0.1:7002,n3=127.0.0.1:7003');
  }
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InvalidConfigError(field, item, `ID=ADDRESS with ADDRESS as ${ADDRESS_FORMS}`);
    const id = checkNodeId(`${field} id`, item.slice(0, eq));
    const address = parseHostPort(`${field} ${id}`, item.slice(eq + 1));
    if (id === self) throw new InvalidConfigError(field, item, `the other nodes only; ${id} is this node (its address is --listen)`);
    if (peers.has(id)) throw new InvalidConfigError(field, item, `distinct ids; ${id} appears twice`);
    const key = formatHostPort(address);
    if (seen.has(key)) throw new InvalidConfigError(field, item, `distinct addresses; ${key} appears twice`);
    seen.add(key);
    peers.set(id, address);
  }
  return peers;
}
