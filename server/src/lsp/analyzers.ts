import type { ProjectSources } from '../analysis/index';
import type { Analyzer } from '../analysis/types';

/**
 * Makes an analyzer whose parse cache holds at most `cacheCapacity` parsed units, reading imported modules through
 * `project` (their parses are kept in one cache shared by every analyzer the factory makes).
 */
export type AnalyzerFactory = (cacheCapacity: number, project: ProjectSources) => Analyzer;

/** Parsed units a target's cache keeps at least beyond its current ones (the previous version of the edited unit). */
const SPARE_ENTRIES = 1;

/**
 * One analyzer per open target, its parse cache sized to the target. The engine caches parses by unit
 * text; in an editor every keystroke makes a new text, so one shared cache would keep a parsed copy of
 * every version of an edited file (hundreds of MB after a few dozen edits of a large file). A cache
 * sized to the target's units keeps the current parse of every cell (so editing one cell re-parses only
 * that cell) and evicts old versions; closing the target frees it all.
 */
export class TargetAnalyzers {
  private readonly byTarget = new Map<string, { analyzer: Analyzer; capacity: number }>();

  constructor(
    private readonly factory: AnalyzerFactory,
    private readonly project: ProjectSources,
  ) {}

  /** The analyzer for a target of `unitCount` units; remade (losing its cache) when the unit count outgrows or far undershoots it. */
  for(key: string, unitCount: number): Analyzer {
    const current = this.byTarget.get(key);
    const needed = unitCount + SPARE_ENTRIES;
    if (current && current.capacity >= needed && current.capacity <= 2 * needed) return current.analyzer;
    // A quarter of headroom, so that adding a few cells does not remake the cache each time.
    const capacity = needed + Math.floor(needed / 4);
    const analyzer = this.factory(capacity, this.project);
    this.byTarget.set(key, { analyzer, capacity });
    return analyzer;
  }

  delete(key: string): void {
    this.byTarget.delete(key);
  }
}
