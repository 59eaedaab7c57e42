import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/node/tcp/frame.js';
import { hello } from '../../src/node/tcp/wire.js';
import { TcpClients } from '../../harness/tcp-client.js';
import { killAll, listening, run, runToEnd, waitFor, type Proc } from '../support/tcp-processes.js';

// One node (a cluster of one: it leads at once) on a port of its choosing, fed bad bytes.
const DATA = mkdtempSync(join(tmpdir(), 'raft-harness-frames-'));
let node: Proc;
let port = 0;
let clients: TcpClients;

beforeAll(async () => {
  node = run(['serve', '--id', 'n1', '--listen', '127.0.0.1:0', '--data', join(DATA, 'n1'), '--election-timeout', '100..200', '--heartbeat', '20']);
  port = await listening(node);
  clients = new TcpClients({ nodes: new Map([['n1', { host: '127.0.0.1', port }]]) });
  await clients.waitForLeader(30_000);
});

afterAll(async () => {
  clients?.close();
  await killAll();
  rmSync(DATA, { recursive: true, force: true });
});

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function frameOf(text: string): Buffer {
  return Buffer.concat([u32(Buffer.byteLength(text)), Buffer.from(text)]);
}

/** Writes `bytes` on a raw socket and resolves once the node has closed it. */
function sendAndWaitForClose(bytes: Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the node kept the connection open for 30 s after bad bytes; node stderr:\n${node.stderr}`));
    }, 30_000);
    socket.on('connect', () => {
      for (const b of bytes) socket.write(b);
    });
    socket.on('data', () => {});
    socket.on('error', () => {}); // a reset is a close too
    socket.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('raft-harness serve: bad frames from a raw socket', () => {
  it.each([
    ['a frame that is not JSON', [frameOf('{"type": "Hello", ')], /malformed frame: payload is not JSON/],
    ['an oversized length prefix', [u32(0xffff_ffff)], /frame too large: length prefix 4294967295 bytes; allowed: 1\.\.65536 bytes/],
    ['a length prefix past the handshake limit', [u32(65_537)], /frame too large: length prefix 65537 bytes; allowed: 1\.\.65536 bytes/],
    ['a client frame past the client limit', [encodeFrame(hello('client', 'c', 'n1')), u32(1_048_577)], /frame too large: length prefix 1048577 bytes; allowed: 1\.\.1048576 bytes/],
    ['garbage (an HTTP request)', [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], /frame too large: length prefix 1195725856 bytes/],
    ['a zero length prefix', [u32(0), Buffer.from('xxxx')], /frame too large: length prefix 0 bytes/],
    ['JSON that is not an object', [frameOf('[1,2,3]')], /payload must be a JSON object/],
    ['a request before the Hello', [frameOf('{"type":"ClientRequest"}')], /expected Hello as the first frame, got ClientRequest/],
    ['a Hello from a node that is not a peer', [encodeFrame(hello('node', 'n9', 'n1'))], /Hello from node "n9", which is not a peer of n1/],
    ['a Hello for another node', [encodeFrame(hello('client', 'c', 'n2'))], /Hello is for "n2", but this is node n1/],
    ['a Raft message from a client', [encodeFrame(hello('client', 'c', 'n1')), encodeFrame({ type: 'RequestVote', from: 'n2', to: 'n1', term: 99, lastLogIndex: 0, lastLogTerm: 0 })], /a client sent "RequestVote"; allowed: ClientRequest, Status/],
  ])('%s: that connection is closed with the reason logged, and the node goes on', async (_, bytes, reason) => {
    const rejectedBefore = await rejected();
    await sendAndWaitForClose(bytes);
    await waitFor('the rejection in the node log', () => reason.test(node.stderr), () => `node stderr:\n${node.stderr}`);
    expect(node.stderr).toMatch(new RegExp(`\\[n1\\] closed connection #\\d+ from 127\\.0\\.0\\.1:\\d+.*: raft-harness: .*${reason.source}`));
    expect(await rejected()).toBe(rejectedBefore + 1);
    expect(node.done()).toBe(false);
  });

  it('after all that, the node still serves clients and its term never moved', async () => {
    const r = await runToEnd(['client', '--peers', `n1=127.0.0.1:${port}`, 'credit', '42']);
    expect(r.stdout.trim()).toBe('ok balance 42');
    const s = await clients.status('n1');
    expect(s.ok && s.status['term']).toBe(1);
  });

  it('a second serve on the same data directory is refused while the first runs', async () => {
    const r = await runToEnd(['serve', '--id', 'n1', '--listen', '127.0.0.1:0', '--data', join(DATA, 'n1')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`raft-harness: data directory .*n1 is in use by process ${node.pid}`));
  });

  it('a serve on a port in use says so and exits 1', async () => {
    const r = await runToEnd(['serve', '--id', 'n2', '--listen', `127.0.0.1:${port}`, '--data', join(DATA, 'n2')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`raft-harness: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
  });
});

async function rejected(): Promise<number> {
  const s = await clients.status('n1', 10_000);
  if (!s.ok) throw new Error(`n1 did not answer status: ${s.error}`);
  return s.status.transport.rejected;
}
