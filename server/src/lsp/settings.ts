import type { AnalysisOptions, Framework, Severity } from '../analysis/types';
import type { RuleSetting } from '../protocol';

const RULE_SETTINGS: readonly RuleSetting[] = ['error', 'warning', 'information', 'hint', 'off'];
const FRAMEWORKS: readonly Framework[] = ['pytorch', 'keras', 'tensorflow', 'jax'];

/** The analysis options the `lossLens` settings ask for, and what in them was not understood. */
export interface ParsedSettings {
  options: AnalysisOptions;
  problems: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the `lossLens` configuration section as the client sent it (any JSON, or null).
 * Invalid entries are dropped and named in `problems`, so that one typo does not disable the rest.
 */
export function parseSettings(section: unknown): ParsedSettings {
  const problems: string[] = [];
  const options: AnalysisOptions = {};
  if (section === null || section === undefined) return { options, problems };
  if (!isRecord(section)) return { options, problems: ['lossLens settings: expected an object'] };

  if (section.rules !== undefined) {
    if (!isRecord(section.rules)) {
      problems.push('lossLens.rules: expected an object mapping rule ids to a severity or "off"');
    } else {
      const severities: Record<string, Severity | 'off'> = {};
      for (const [rule, setting] of Object.entries(section.rules)) {
        if (RULE_SETTINGS.includes(setting as RuleSetting)) severities[rule] = setting as RuleSetting;
        else problems.push(`lossLens.rules.${rule}: expected one of ${RULE_SETTINGS.join(', ')}, got ${JSON.stringify(setting)}`);
      }
      options.severities = severities;
    }
  }

  if (section.frameworks !== undefined) {
    if (!Array.isArray(section.frameworks)) {
      problems.push(`lossLens.frameworks: expected an array of ${FRAMEWORKS.join(', ')}`);
    } else {
      const frameworks = section.frameworks.filter((name): name is Framework => FRAMEWORKS.includes(name as Framework));
      for (const name of section.frameworks) {
        if (!FRAMEWORKS.includes(name as Framework)) problems.push(`lossLens.frameworks: unknown framework ${JSON.stringify(name)}`);
      }
      // An empty list means "no preference" (all frameworks), as documented in protocol.ts.
      if (frameworks.length > 0) options.frameworks = frameworks;
    }
  }
  return { options, problems };
}
