import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, type Frame } from '../../src/node/tcp/frame.js';
import { TcpTransport, type TcpTransportOptions } from '../../src/node/tcp/transport.js';
import { hello } from '../../src/node/tcp/wire.js';
import { freePorts } from '../../harness/free-ports.js';

const HOST = '127.0.0.1';
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A turn of the event loop: socket events and timers run, nothing sleeps. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Lets the event loop turn until `cond` holds (everything here is in this process). */
async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await turn();
  }
}

async function node(id: string, port: number, peers: Record<string, number>, extra: Partial<TcpTransportOptions> = {}): Promise<{ t: TcpTransport; got: Frame[] }> {
  const t = await TcpTransport.start({
    id,
    listen: { host: HOST, port },
    peers: new Map(Object.entries(peers).map(([p, n]) => [p, { host: HOST, port: n }])),
    backoff: { initialMs: 10, maxMs: 50 },
    ...extra,
  });
  const got: Frame[] = [];
  t.listen((m) => got.push(m as Frame));
  cleanups.push(() => t.close());
  return { t, got };
}

const vote = (from: string, to: string, term: number) => ({ type: 'RequestVote', from, to, term, lastLogIndex: 0, lastLogTerm: 0 });

describe('TcpTransport', () => {
  it('carries messages between nodes, and replies to a client on the connection it came in on', async () => {
    const [pa, pb] = await freePorts(2);
    const a = await node('a', pa!, { b: pb! });
    const b = await node('b', pb!, { a: pa! });
    // a dialed b before b listened: sends are dropped until its backoff redials (Raft resends).
    await until('a to connect to b', () => a.t.stats().peers['b']!.state === 'connected');
    a.t.send(vote('a', 'b', 1));
    await until('b to receive the vote', () => b.got.length === 1);
    expect(b.got[0]).toEqual(vote('a', 'b', 1));

    const socket = connect({ host: HOST, port: pb! });
    cleanups.push(() => void socket.destroy());
    const decoder = new FrameDecoder();
    const replies: Frame[] = [];
    socket.on('data', (chunk) => replies.push(...decoder.push(chunk)));
    socket.write(encodeFrame(hello('client', 'tester', 'b')));
    socket.write(encodeFrame({ type: 'ClientRequest', from: 'client:c1', to: 'b', clientId: 'c1', seq: 1, requestId: 7, op: { op: 'balance' } }));
    await until('b to receive the request', () => b.got.length === 2);
    const request = b.got[1]!;
    expect(request['from']).toMatch(/^conn:\d+\/client:c1$/);
    b.t.send({ type: 'ClientReply', from: 'b', to: request['from'] as string, requestId: 7, ok: true, result: 1 });
    await until('the client to get its reply', () => replies.length === 1);
    expect(replies[0]).toMatchObject({ type: 'ClientReply', to: 'client:c1', requestId: 7 });
    expect(b.t.stats().connections).toEqual({ nodes: 1, clients: 1, handshaking: 0 });
  });

  it('never queues without bound for a dead peer, and reconnects when it is back', async () => {
    const [pa, pb] = await freePorts(2);
    const a = await node('a', pa!, { b: pb! }, { sendQueue: { maxMessages: 50, maxBytes: 1 << 20 } });
    for (let i = 0; i < 20_000; i++) a.t.send(vote('a', 'b', i + 1));
    const s = a.t.stats().peers['b']!;
    expect(s.queued).toBeLessThanOrEqual(50);
    expect(s.dropped).toBeGreaterThanOrEqual(20_000 - 50);
    await until('a to notice b is down', () => a.t.stats().peers['b']!.failures > 0);

    const b = await node('b', pb!, { a: pa! });
    await until('a to reconnect to b', () => a.t.stats().peers['b']!.state === 'connected');
    a.t.send(vote('a', 'b', 99_999));
    await until('b to receive a message sent after the reconnect', () => b.got.some((m) => m['term'] === 99_999));
  });

  it('a peer that stops reading costs a bounded queue, not the event loop', async () => {
    const [pa] = await freePorts(1);
    // A "peer" that accepts and never reads: the kernel buffers fill, then the socket asks for a drain.
    const stuck: Socket[] = [];
    const server: Server = createServer((s) => {
      s.pause();
      stuck.push(s);
    });
    await new Promise<void>((r) => server.listen(0, HOST, r));
    cleanups.push(() => new Promise<void>((r) => {
      for (const s of stuck) s.destroy();
      server.close(() => r());
    }));
    const port = (server.address() as { port: number }).port;
    const a = await node('a', pa!, { b: port }, { sendQueue: { maxMessages: 10_000, maxBytes: 4 << 20 } });
    await until('a to connect', () => a.t.stats().peers['b']!.state === 'connected');
    const big = 'x'.repeat(64 * 1024);
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 1);
    cleanups.push(() => clearInterval(ticker));
    for (let round = 0; round < 40; round++) {
      for (let i = 0; i < 20; i++) a.t.send({ ...vote('a', 'b', 1), pad: big });
      await turn();
    }
    const s = a.t.stats().peers['b']!;
    expect(s.queuedBytes).toBeLessThanOrEqual(4 << 20);
    expect(s.dropped).toBeGreaterThan(0);
    expect(ticks).toBeGreaterThan(0); // timers kept firing throughout
  });
});
