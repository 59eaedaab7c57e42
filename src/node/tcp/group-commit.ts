import type { Entry, HardState, PersistedState, Snapshot } from '../../raft/types.js';
import type { Storage } from '../storage.js';

type Message = { readonly to: string; readonly [field: string]: unknown };

/**
 * Group commit for a real disk: one fsync for every write the node asked to sync within one turn
 * of the event loop, instead of one per input.
 *
 * The program's `sync()` only marks the storage dirty; from then on its messages are held back,
 * in order, and at the end of the turn (setImmediate: after every socket that was ready has been
 * read) one real sync runs, then the held messages go out. Nothing the program says leaves the
 * process before what it promises is on disk, which is all "persist before you respond" asks;
 * the program cannot tell, and a crash before the flush loses only what nobody was told.
 */
export class GroupCommit {
  readonly storage: Storage;
  private readonly disk: Storage;
  private readonly deliver: (message: Message) => void;
  private readonly fail: (error: unknown) => void;
  private dirty = false;
  private held: Message[] = [];
  private scheduled: ReturnType<typeof setImmediate> | null = null;
  private syncs = 0;
  private requested = 0;

  /** `fail`: the real sync threw; held messages are dropped (they promise what is not on disk). */
  constructor(disk: Storage, deliver: (message: Message) => void, fail: (error: unknown) => void) {
    this.disk = disk;
    this.deliver = deliver;
    this.fail = fail;
    this.storage = {
      load: (): PersistedState => disk.load(),
      setHardState: (hardState: HardState) => disk.setHardState(hardState),
      append: (entries: readonly Entry[]) => disk.append(entries),
      saveSnapshot: (snapshot: Snapshot) => disk.saveSnapshot(snapshot),
      sync: () => {
        this.requested += 1;
        this.dirty = true;
        this.schedule();
      },
      close: () => {
        this.flush();
        disk.close();
      },
    };
  }

  /** Sends now if nothing waits for the disk, else after the next real sync. */
  send(message: Message): void {
    if (!this.dirty && this.held.length === 0) {
      this.deliver(message);
      return;
    }
    this.held.push(message);
    this.schedule();
  }

  /** Syncs what is pending and sends what was held. Runs by itself at the end of each turn. */
  flush(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    if (this.dirty) {
      this.dirty = false;
      try {
        this.disk.sync();
        this.syncs += 1;
      } catch (error) {
        this.held = [];
        this.fail(error);
        return;
      }
    }
    const out = this.held;
    this.held = [];
    for (const m of out) this.deliver(m);
  }

  /** Syncs the program asked for, and real ones: their ratio is what grouping saved. */
  stats(): { readonly requested: number; readonly syncs: number } {
    return { requested: this.requested, syncs: this.syncs };
  }

  private schedule(): void {
    this.scheduled ??= setImmediate(() => this.flush());
  }
}
