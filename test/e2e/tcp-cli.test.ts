import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../harness/free-ports.js';
import { isAlive, killAll, run, runToEnd, waitFor } from '../support/tcp-processes.js';

const DATA = mkdtempSync(join(tmpdir(), 'raft-harness-tcp-cli-'));
afterAll(async () => {
  await killAll();
  rmSync(DATA, { recursive: true, force: true });
});

describe('raft-harness serve, client and cluster: bad arguments', () => {
  const d = join(DATA, 'unused');
  const cases: Array<[string[], RegExp]> = [
    [['serve', '--listen', '7001', '--data', d], /--id = undefined; allowed: this node's id/],
    [['serve', '--id', 'n 1', '--listen', '7001', '--data', d], /--id = "n 1"; allowed: a node id of letters, digits/],
    [['serve', '--id', 'n1', '--listen', '127.0.0.1', '--data', d], /--listen = "127.0.0.1"; allowed: HOST:PORT, \[IPv6\]:PORT or PORT/],
    [['serve', '--id', 'n1', '--listen', '127.0.0.1:99999', '--data', d], /--listen = "127.0.0.1:99999"; allowed: .*PORT in 0\.\.65535/],
    [['serve', '--id', 'n1', '--listen', '7001', '--peers', 'n2=7002,n2=7003', '--data', d], /--peers = "n2=7003"; allowed: distinct ids; n2 appears twice/],
    [['serve', '--id', 'n1', '--listen', '7001', '--peers', 'n1=7002', '--data', d], /n1 is this node/],
    [['serve', '--id', 'n1', '--listen', '7001', '--peers', 'n2=host:port', '--data', d], /--peers n2 = "host:port"; allowed: HOST:PORT/],
    [['serve', '--id', 'n1', '--listen', '7001'], /--data = undefined; allowed: a directory/],
    [['serve', '--id', 'n1', '--listen', '7001', '--data', d, '--election-timeout', '500..100'], /electionTimeout = \[500,100\]; allowed: min < max/],
    [['serve', '--id', 'n1', '--listen', '7001', '--data', d, '--heartbeat', '600'], /heartbeatInterval = 600; allowed: an integer >= 1 and below electionTimeout min \(500\)/],
    [['serve', '--id', 'n1', '--listen', '7001', '--data', d, '--bogus'], /raft-harness serve: Unknown option '--bogus'/],
    [['client', 'balance'], /--peers = undefined; allowed: ID=HOST:PORT/],
    [['client', '--peers', 'n1=7001', 'credit', 'ten'], /credit amount = "ten"; allowed: a whole number >= 1/],
    [['client', '--peers', 'n1=7001', 'debit', '0'], /debit amount = "0"; allowed: a whole number >= 1/],
    [['client', '--peers', 'n1=7001', 'transfer', '5'], /operation = "transfer"; allowed: credit N, debit N, balance or status/],
    [['client', '--peers', 'n1=7001', 'balance', 'now'], /unexpected argument "now"/],
    [['cluster', '--nodes', '3'], /--data = undefined; allowed: a directory/],
    [['cluster', '--nodes', '0', '--data', d], /--nodes = "0"; allowed: an integer in 1\.\.99/],
    [['cluster', '--data', d, '--base-port', '65535'], /--base-port = "65535"; allowed: an integer in 1\.\.65533/],
    [['serf'], /unknown command "serf"; allowed: simulate, replay, bench, help, serve, client, cluster/],
  ];
  it.each(cases)('rejects %j with exit 2, a named reason and the usage', async (args, message) => {
    const r = await runToEnd(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('Usage:');
  });

  it('client says plainly when no leader answers, and exits 1', async () => {
    const [a, b] = await freePorts(2);
    const r = await runToEnd(['client', '--peers', `n1=127.0.0.1:${a},n2=127.0.0.1:${b}`, '--timeout', '1500', 'credit', '5']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/raft-harness client: no leader answered credit 5 within 1500 ms \(it may still be applied/);
    expect(r.stderr).toMatch(new RegExp(`n1 127\\.0\\.0\\.1:${a}: .*ECONNREFUSED`));
  });
});

describe('raft-harness cluster', () => {
  it('starts 3 nodes, says when a leader is elected, serves clients, and stops every node on SIGINT', async () => {
    const c = run(['cluster', '--nodes', '3', '--data', join(DATA, 'cluster'), '--election-timeout', '300..600', '--heartbeat', '60']);
    const ready = await waitFor(
      'the ready line',
      () => {
        if (c.done()) throw new Error(`cluster exited early:\n${c.stdout}\n${c.stderr}`);
        return /^ready: leader n\d/m.test(c.stdout) ? /--peers (\S+) credit 100/.exec(c.stdout) : null;
      },
      () => `cluster stdout:\n${c.stdout}\nstderr:\n${c.stderr}`,
    );
    const pids = [...c.stdout.matchAll(/^ {2}(n\d) 127\.0\.0\.1:\d+ pid (\d+) data /gm)].map((m) => Number(m[2]));
    expect(pids).toHaveLength(3);
    const r = await runToEnd(['client', '--peers', ready[1]!, 'credit', '7']);
    expect(r.stdout.trim()).toBe('ok balance 7');

    c.child.kill('SIGINT');
    expect(await c.exited, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/stopped: n1 exit 0, n2 exit 0, n3 exit 0/);
    for (const pid of pids) expect(isAlive(pid), `node pid ${pid} outlived the cluster`).toBe(false);
  });
});
