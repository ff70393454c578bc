/**
 * Decides whether a crashed language server is restarted: at most `maxRestarts` restarts within any
 * sliding window of `windowMs`, so a server that dies on every start is given up on instead of
 * looping, while one that crashes rarely (a bad file once an hour) keeps being brought back.
 * Free of VS Code APIs so that it can be tested on its own.
 */
export interface RestartPolicyOptions {
  maxRestarts: number;
  windowMs: number;
}

export type CrashDecision =
  | { restart: true; attempt: number; maxRestarts: number }
  | { restart: false; crashes: number; windowMs: number };

export class RestartPolicy {
  private crashTimes: number[] = [];

  constructor(private readonly options: RestartPolicyOptions) {}

  /** Records a crash at `now` (ms) and says whether to restart. */
  recordCrash(now: number): CrashDecision {
    this.crashTimes = this.crashTimes.filter((time) => now - time < this.options.windowMs);
    this.crashTimes.push(now);
    const crashes = this.crashTimes.length;
    if (crashes <= this.options.maxRestarts) {
      return { restart: true, attempt: crashes, maxRestarts: this.options.maxRestarts };
    }
    return { restart: false, crashes, windowMs: this.options.windowMs };
  }

  /** Forgets past crashes: a restart the user asked for starts a fresh budget. */
  reset(): void {
    this.crashTimes = [];
  }
}
