/**
 * Decides when targets are analysed. An edit (re)starts the target's debounce timer, so a burst of
 * keystrokes costs one analysis; due targets are analysed one per event-loop turn (`setImmediate`
 * between them), so incoming edits and requests are read between two analyses and a newer edit
 * simply re-queues its target. Nothing runs while paused (before the settings are known).
 */
export class AnalysisScheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly due = new Set<string>();
  private draining = false;
  private paused = true;
  /** Delay between an edit and its analysis; the client may change it at initialization. */
  debounceMs: number;

  constructor(
    debounceMs: number,
    private readonly analyze: (key: string) => void,
    private readonly onError: (key: string, error: unknown) => void,
  ) {
    this.debounceMs = debounceMs;
  }

  /** Analyse `key` after the debounce delay (or on the next turn with `immediately`). */
  schedule(key: string, immediately = false): void {
    this.clearTimer(key);
    if (immediately || this.debounceMs <= 0) {
      this.enqueue(key);
      return;
    }
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.enqueue(key);
      }, this.debounceMs),
    );
  }

  /** Forget anything pending for `key` (it was closed, or has just been analysed on demand). */
  cancel(key: string): void {
    this.clearTimer(key);
    this.due.delete(key);
  }

  resume(): void {
    this.paused = false;
    this.drainSoon();
  }

  private enqueue(key: string): void {
    this.due.add(key);
    this.drainSoon();
  }

  private drainSoon(): void {
    if (this.draining || this.paused || this.due.size === 0) return;
    this.draining = true;
    setImmediate(() => this.drainOne());
  }

  private drainOne(): void {
    this.draining = false;
    const [key] = this.due;
    if (key === undefined) return;
    this.due.delete(key);
    try {
      this.analyze(key);
    } catch (error) {
      this.onError(key, error);
    }
    this.drainSoon();
  }

  private clearTimer(key: string): void {
    const timer = this.timers.get(key);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(key);
  }
}
