import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameTooLargeError, MalformedFrameError } from '../../src/node/tcp/errors.js';
import { FrameDecoder, encodeFrame, MAX_FRAME_BYTES, type Frame } from '../../src/node/tcp/frame.js';
import { parseHostPort, parsePeers } from '../../src/node/tcp/address.js';

function prefix(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length, 0);
  return b;
}

function raw(payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([prefix(body.length), body]);
}

describe('frame codec', () => {
  it('round-trips messages however the byte stream is cut', () => {
    const message = fc.record({ type: fc.constantFrom('AppendEntries', 'ClientRequest'), to: fc.string(), n: fc.integer(), text: fc.string({ unit: 'grapheme' }) });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (messages, cuts) => {
        const stream = Buffer.concat(messages.map((m) => encodeFrame(m)));
        const decoder = new FrameDecoder();
        const out: Frame[] = [];
        let at = 0;
        for (let i = 0; at < stream.length; i++) {
          const n = cuts[i % cuts.length]!;
          out.push(...decoder.push(stream.subarray(at, at + n)));
          at += n;
        }
        expect(out).toEqual(messages);
        expect(decoder.pendingBytes).toBe(0);
      }),
    );
  });

  it('refuses an oversized length prefix on the 4 prefix bytes alone, before any body', () => {
    const decoder = new FrameDecoder(1024);
    expect(decoder.push(prefix(1025).subarray(0, 3))).toEqual([]);
    expect(() => decoder.push(prefix(1025).subarray(3))).toThrow(FrameTooLargeError);
    expect(() => new FrameDecoder().push(prefix(0xffff_ffff))).toThrow(/frame too large: length prefix 4294967295 bytes; allowed: 1\.\.16777216 bytes/);
    expect(() => new FrameDecoder().push(prefix(0))).toThrow(FrameTooLargeError);
    // The limit can change between frames (a connection's role is known after its first frame).
    const d = new FrameDecoder(16);
    expect(d.push(Buffer.concat([raw('{"type":"Hello"}')]))).toEqual([{ type: 'Hello' }]);
    d.setMax(1000);
    expect(d.push(raw(JSON.stringify({ type: 'X', pad: 'y'.repeat(100) })))).toHaveLength(1);
  });

  it.each([
    ['bad JSON', raw('{"type": "Hello",'), /malformed frame: payload is not JSON/],
    ['not UTF-8', raw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), /malformed frame: payload of 4 bytes is not UTF-8/],
    ['an array', raw('[1,2]'), /malformed frame: payload must be a JSON object/],
    ['null', raw('null'), /malformed frame: payload must be a JSON object/],
    ['no type', raw('{"to":"n1"}'), /malformed frame: type must be a string of 1\.\.64 characters/],
    ['a numeric type', raw('{"type":7}'), /type must be a string/],
  ])('refuses %s with MalformedFrameError, and stays failed', (_, bytes, message) => {
    const decoder = new FrameDecoder();
    expect(() => decoder.push(bytes)).toThrow(MalformedFrameError);
    expect(() => new FrameDecoder().push(bytes)).toThrow(message);
    expect(() => decoder.push(raw('{"type":"Hello"}'))).toThrow(/stream already failed/);
  });

  it('refuses to encode what it would refuse to decode', () => {
    expect(() => encodeFrame({ type: 'AppendEntries', blob: 'x'.repeat(100) }, 64)).toThrow(FrameTooLargeError);
    const circular: Record<string, unknown> = { type: 'X' };
    circular['self'] = circular;
    expect(() => encodeFrame(circular as Frame)).toThrow(MalformedFrameError);
    expect(MAX_FRAME_BYTES).toBe(16 * 1024 * 1024);
  });
});

describe('addresses', () => {
  it('parses HOST:PORT, [IPv6]:PORT and a bare port (loopback)', () => {
    expect(parseHostPort('--listen', '10.0.0.1:7001')).toEqual({ host: '10.0.0.1', port: 7001 });
    expect(parseHostPort('--listen', '[::1]:7001')).toEqual({ host: '::1', port: 7001 });
    expect(parseHostPort('--listen', '7001')).toEqual({ host: '127.0.0.1', port: 7001 });
    expect(parseHostPort('--listen', 'localhost:0', true)).toEqual({ host: 'localhost', port: 0 });
  });

  it.each([
    ['127.0.0.1', /--listen = "127.0.0.1"; allowed: HOST:PORT/],
    ['127.0.0.1:70000', /allowed: .* with PORT in 1\.\.65535/],
    ['127.0.0.1:0', /PORT in 1\.\.65535/],
    ['[zz]:80', /allowed: HOST:PORT/],
    ['bad_host!:80', /"bad_host!" is not an IP address or host name/],
  ])('refuses --listen %s', (text, message) => {
    expect(() => parseHostPort('--listen', text)).toThrow(message);
  });

  it('parses a peer map and names what is wrong with a bad one', () => {
    expect([...parsePeers('--peers', 'n2=127.0.0.1:7002, n3=7003')]).toEqual([
      ['n2', { host: '127.0.0.1', port: 7002 }],
      ['n3', { host: '127.0.0.1', port: 7003 }],
    ]);
    expect(() => parsePeers('--peers', '')).toThrow(/--peers = ""; allowed: a comma list of ID=ADDRESS/);
    expect(() => parsePeers('--peers', 'n2:7002')).toThrow(/allowed: ID=ADDRESS/);
    expect(() => parsePeers('--peers', 'n2=7002,n2=7003')).toThrow(/distinct ids; n2 appears twice/);
    expect(() => parsePeers('--peers', 'n2=7002,n3=127.0.0.1:7002')).toThrow(/distinct addresses; 127.0.0.1:7002 appears twice/);
    expect(() => parsePeers('--peers', 'n1=7001', 'n1')).toThrow(/n1 is this node/);
    expect(() => parsePeers('--peers', 'n 1=7001')).toThrow(/--peers id = "n 1"; allowed: a node id/);
  });
});
