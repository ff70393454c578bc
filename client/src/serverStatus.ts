/**
 * What the status bar item says about the language server, from the client's own state and the
 * server's `lossLens/status` notifications. Free of VS Code APIs (icons are `$(name)` codicon
 * references, which the status bar renders) so that it can be tested on its own.
 */
import type { StatusParams } from '../../server/src/protocol';

export type StatusBarState = 'starting' | 'ready' | 'analysing' | 'stopped';

export interface StatusPresentation {
  text: string;
  tooltip: string;
  /** True when the item should draw attention (the server is not running). */
  alarming: boolean;
}

function describeFindings(count: number): string {
  return count === 1 ? '1 finding' : `${count} findings`;
}

export function presentStatus(state: StatusBarState, findingCount: number, lastError?: string): StatusPresentation {
  const clickHint = 'Click to show the output.';
  const errorNote = lastError === undefined ? '' : `\nThe last analysis failed: ${lastError}`;
  switch (state) {
    case 'starting':
      return { text: '$(loading~spin) Loss Lens', tooltip: 'Loss Lens: starting the analysis server', alarming: false };
    case 'analysing':
      return {
        text: `$(sync~spin) Loss Lens: ${findingCount}`,
        tooltip: `Loss Lens: analysing (${describeFindings(findingCount)} in open files so far). ${clickHint}${errorNote}`,
        alarming: false,
      };
    case 'ready':
      return {
        text: findingCount === 0 ? '$(check) Loss Lens: 0' : `$(warning) Loss Lens: ${findingCount}`,
        tooltip: `Loss Lens: ready, ${describeFindings(findingCount)} in open files. ${clickHint}${errorNote}`,
        alarming: false,
      };
    case 'stopped':
      return {
        text: '$(error) Loss Lens: stopped',
        tooltip: `Loss Lens: the analysis server is not running. ${clickHint} Run "Loss Lens: Restart Server" to start it again.`,
        alarming: true,
      };
  }
}

export type ClientPhase = 'starting' | 'running' | 'stopped';

/** The status bar's model: the client's phase plus the server's latest analysis reports. */
export class ServerStatusModel {
  private phase: ClientPhase = 'starting';
  /** Documents (or notebooks) whose analysis has started and not yet reported back; '' for server-wide work. */
  private readonly analysingDocuments = new Set<string>();
  private totalFindings = 0;
  private lastError: string | undefined;

  constructor(private readonly onChange: (presentation: StatusPresentation, state: StatusBarState) => void) {}

  get state(): StatusBarState {
    if (this.phase !== 'running') return this.phase;
    return this.analysingDocuments.size > 0 ? 'analysing' : 'ready';
  }

  get findingCount(): number {
    return this.totalFindings;
  }

  setPhase(phase: ClientPhase): void {
    this.phase = phase;
    // A (re)started server analyses and reports everything again.
    if (phase !== 'running') {
      this.analysingDocuments.clear();
      this.totalFindings = 0;
      this.lastError = undefined;
    }
    this.notify();
  }

  serverReported(status: StatusParams): void {
    const document = status.uri ?? '';
    if (status.state === 'analysing') {
      this.analysingDocuments.add(document);
    } else {
      this.analysingDocuments.delete(document);
      this.lastError = status.state === 'error' ? (status.message ?? 'unknown error') : undefined;
    }
    this.totalFindings = status.totalFindings;
    this.notify();
  }

  private notify(): void {
    this.onChange(presentStatus(this.state, this.totalFindings, this.lastError), this.state);
  }
}
