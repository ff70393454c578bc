import type { ExpressionEvent, ProgramFacts } from '../analysis/evaluate';
import type { Framework, RuleInfo } from '../analysis/types';
import type { LossCallFacts, NodeEdit, Origin } from '../analysis/values';
import type { PyNode } from '../parse/tree';

/**
 * What a rule sees and how it reports. See the top of `index.ts` for the facts API in words.
 */
export interface RuleFinding {
  /** The node the finding is reported on (its range becomes the finding's range). */
  node: PyNode;
  message: string;
  framework: Framework;
  /** Where the problem was introduced: each becomes a related location (it may sit in another cell). */
  related?: readonly Origin[];
  fix?: { title: string; edits: readonly NodeEdit[] };
}

export interface RuleContext {
  readonly facts: ProgramFacts;
  report(finding: RuleFinding): void;
}

export interface Rule {
  info: RuleInfo;
  /** Called once per analysis; reads `facts.lossCalls` / `facts.events` and reports. Never walks the tree. */
  check(context: RuleContext): void;
}

export type { ExpressionEvent, LossCallFacts, NodeEdit, Origin, PyNode };
