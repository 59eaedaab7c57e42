import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled CLI, as users run it (`npm test` builds first). */
export const CLI = fileURLToPath(new URL('../../dist/harness/cli/main.js', import.meta.url));

export type Proc = {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>;
  readonly done: () => boolean;
};

/** Every process a test file started: `killAll` in afterAll leaves none behind. */
const started = new Set<Proc>();

/** Called when any started process prints or ends: what `waitFor` waits on between looks. */
const onActivity = new Set<() => void>();
const activity = (): void => {
  for (const wake of [...onActivity]) wake();
};

export function run(args: readonly string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let finished = false;
  const proc: Proc = {
    child,
    pid: child.pid ?? -1,
    stdout: '',
    stderr: '',
    done: () => finished,
    // 'close', not 'exit': it comes once the output streams are drained too, so what the
    // process printed last is in stdout/stderr when a test reports it.
    exited: new Promise((resolve) =>
      child.once('close', (code, signal) => {
        finished = true;
        started.delete(proc);
        resolve(code ?? signal ?? 'unknown');
        activity();
      }),
    ),
  };
  child.stdout!.on('data', (d: Buffer) => {
    proc.stdout += d.toString();
    activity();
  });
  child.stderr!.on('data', (d: Buffer) => {
    proc.stderr += d.toString();
    activity();
  });
  started.add(proc);
  return proc;
}

/** Runs the CLI to completion, with a deadline (it is killed and the test fails past it). */
export async function runToEnd(args: readonly string[], timeoutMs = 45_000): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = run(args);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  if (code === 'SIGKILL') throw new Error(`raft-harness ${args.join(' ')} ran past ${timeoutMs} ms; stdout:\n${p.stdout}\nstderr:\n${p.stderr}`);
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/**
 * Looks at `cond` until it is truthy; past the deadline throws with `state()` explaining why not.
 * What it waits for lives in other processes, so there is nothing to sleep on: a question asked
 * over the network (`cond` returns a promise) is asked again as soon as its answer is in; a look
 * at their output is taken again when one of them prints or ends.
 */
export async function waitFor<T>(what: string, cond: () => T | Promise<T>, state: () => string | Promise<string>, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = cond();
    const v = await pending;
    if (v) return v as NonNullable<T>;
    const left = deadline - Date.now();
    if (left < 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${await state()}`);
    if (pending instanceof Promise) await new Promise<void>((resolve) => setImmediate(resolve));
    else await nextActivity(left);
  }
}

/** Resolves when a started process prints or ends, or when `ms` have passed (the deadline). */
function nextActivity(ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      onActivity.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    onActivity.add(wake);
  });
}

/** Waits for a `serve` process's "listening on HOST:PORT" line (on its output) and returns the port. */
export async function listening(p: Proc, timeoutMs = 30_000): Promise<number> {
  const LINE = / listening on [^ ]+:(\d+) /;
  return new Promise<number>((resolve, reject) => {
    const done = (outcome: () => void): void => {
      clearTimeout(deadline);
      p.child.stdout!.off('data', check);
      outcome();
    };
    const check = (): void => {
      const m = LINE.exec(p.stdout);
      if (m) done(() => resolve(Number(m[1])));
    };
    const deadline = setTimeout(
      () => done(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for pid ${p.pid} to listen\nstdout:\n${p.stdout}\nstderr:\n${p.stderr}`))),
      timeoutMs,
    );
    // Registered after run()'s own listener, so p.stdout already holds the new chunk.
    p.child.stdout!.on('data', check);
    void p.exited.then(() => done(() => reject(new Error(`pid ${p.pid} exited before listening; stdout:\n${p.stdout}\nstderr:\n${p.stderr}`))));
    check();
  });
}

/** SIGKILLs every process still running and waits for each; for afterAll. */
export async function killAll(): Promise<void> {
  const all = [...started];
  for (const p of all) p.child.kill('SIGKILL');
  await Promise.all(all.map((p) => p.exited));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
