// Where the server's log lines go when it writes to stdout: off the request path (issue 8). A log
// call appends the line to an array; once per event-loop turn, everything logged during that turn
// is written with one system call. Nothing is ever in flight between threads, so what a crash can
// lose is bounded by the current turn, and the exit handler writes the rest synchronously: no line
// is lost on SIGTERM (a server's close() waits for the output), process.exit or a fatal error.
// Rather than pino.destination({ sync: false }): that one hands writes to libuv's thread pool, so
// at process.exit a write can still be in flight (lost, or overtaken by the exit flush), and its
// buffer recounts the bytes of the pending text on every line.
import { writeSync } from 'node:fs';

/** How long to wait before writing again when the reader is behind (a full pipe). */
const RETRY_MS = 10;
/** At exit, how long to keep waiting on a reader that does not drain the pipe. */
const EXIT_WAIT_MS = 10_000;

const live = new Set<BatchedLogDestination>();
let exitHook = false;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class BatchedLogDestination {
  /** Lines logged since the last write. */
  private pending: string[] = [];
  /** The unwritten end of a write the file descriptor took only part of. */
  private head: Buffer | null = null;
  private scheduled = false;
  /** Nobody reads the output any more (EPIPE): lines are dropped, as pino does. */
  private broken = false;
  private waiters: ((err?: Error) => void)[] = [];

  constructor(private readonly fd: number) {
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const d of live) {
          try {
            d.flushSync();
          } catch {
            // The output is gone (a closed descriptor): nothing left to write to.
          }
        }
      });
    }
  }

  write(line: string): boolean {
    if (this.broken) return true;
    this.pending.push(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.writeLater);
    }
    return true;
  }

  /** Calls `cb` once every line written so far has been handed to the operating system. */
  flush(cb?: (err?: Error) => void): void {
    if (!cb) return;
    if (!this.scheduled && this.head === null && this.pending.length === 0) return cb();
    this.waiters.push(cb);
  }

  /** Writes everything now, waiting (up to EXIT_WAIT_MS) on a reader that is behind. */
  flushSync(): void {
    const deadline = Date.now() + EXIT_WAIT_MS;
    while (!this.writeOut() && Date.now() < deadline) sleepSync(RETRY_MS);
  }

  private readonly writeLater = (): void => {
    if (!this.writeOut()) {
      setTimeout(this.writeLater, RETRY_MS);
      return;
    }
    this.scheduled = false;
    const waiters = this.waiters;
    this.waiters = [];
    for (const cb of waiters) cb();
  };

  /** Writes what the descriptor takes; false when it would block and something is left. */
  private writeOut(): boolean {
    for (;;) {
      if (this.broken) return true;
      if (this.head === null) {
        if (this.pending.length === 0) return true;
        this.head = Buffer.from(this.pending.join(''));
        this.pending = [];
      }
      try {
        const n = writeSync(this.fd, this.head);
        this.head = n < this.head.length ? this.head.subarray(n) : null;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EBUSY') return false;
        if (code !== 'EPIPE') throw err;
        this.broken = true;
        this.head = null;
        this.pending = [];
      }
    }
  }
}
