import type { RuleInfo } from '../analysis/types';
import { UsageError } from './io';

/** The command line of `check` and `fix`, parsed and validated against the rule registry. */

export type OutputFormat = 'text' | 'json' | 'sarif' | 'github';

export interface CheckOptions {
  format: OutputFormat;
  select?: string[];
  ignore: string[];
  paths: string[];
  help: boolean;
  /** Analysis workers; undefined: the machine's available parallelism. */
  jobs?: number;
  /** No progress line on stderr. */
  quiet: boolean;
}

const FORMATS: readonly OutputFormat[] = ['text', 'json', 'sarif', 'github'];

export function checkUsage(command: 'check' | 'fix'): string {
  const what =
    command === 'check'
      ? 'Reports classification-loss misuse in .py files, notebooks and folders (searched recursively).'
      : 'Applies every preferred fix in place (notebooks keep their outputs and metadata), then reports what remains.';
  return `Usage: loss-lens ${command} [options] PATH...

${what}

Options:
  --format text|json|sarif|github
                             output format (default: text; github: workflow annotations)
  --select ID,...            report only these rules
  --ignore ID,...            never report these rules
  --jobs N                   analysis workers (default: the machine's available parallelism)
  --quiet                    no progress line on stderr
  -h, --help                 show this help

Exit status: 0 no findings, 1 findings, 2 usage error or a file that could not be read or analysed.
Notes (syntax errors, time budget) do not change it.
`;
}

/** Parses `argv` (after the command name). Throws `UsageError` naming the bad option or unknown rule ID. */
export function parseCheckOptions(argv: readonly string[], rules: readonly RuleInfo[]): CheckOptions {
  const options: CheckOptions = { format: 'text', ignore: [], paths: [], help: false, quiet: false };
  const knownRules = new Set(rules.map((rule) => rule.id));
  let onlyPathsFollow = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPathsFollow || !arg.startsWith('-') || arg === '-') {
      options.paths.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPathsFollow = true;
      continue;
    }
    if (arg === '-h' || arg === '--help') {
      options.help = true;
      continue;
    }
    if (arg === '-q' || arg === '--quiet') {
      options.quiet = true;
      continue;
    }
    const [name, inlineValue] = splitOption(arg);
    const value = () => {
      if (inlineValue !== undefined) return inlineValue;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`option '${name}' needs a value`);
      i++;
      return next;
    };
    switch (name) {
      case '--format': {
        const format = value();
        if (!(FORMATS as readonly string[]).includes(format)) {
          throw new UsageError(`unknown format '${format}' (expected ${FORMATS.join(', ')})`);
        }
        options.format = format as OutputFormat;
        break;
      }
      case '--select':
        options.select = [...(options.select ?? []), ...ruleList(value(), name, knownRules)];
        break;
      case '--ignore':
        options.ignore.push(...ruleList(value(), name, knownRules));
        break;
      case '--jobs': {
        const jobs = value();
        if (!/^[1-9]\d{0,3}$/.test(jobs)) throw new UsageError(`--jobs must be a whole number from 1 to 9999 (got '${jobs}')`);
        options.jobs = Number(jobs);
        break;
      }
      default:
        throw new UsageError(`unknown option '${name}'`);
    }
  }
  if (!options.help && options.paths.length === 0) throw new UsageError('no PATH given');
  return options;
}

function splitOption(arg: string): [string, string | undefined] {
  const equals = arg.indexOf('=');
  return equals < 0 ? [arg, undefined] : [arg.slice(0, equals), arg.slice(equals + 1)];
}

function ruleList(value: string, option: string, knownRules: ReadonlySet<string>): string[] {
  const ids = value.split(',').map((id) => id.trim()).filter((id) => id !== '');
  if (ids.length === 0) throw new UsageError(`option '${option}' needs at least one rule ID`);
  for (const id of ids) {
    if (!knownRules.has(id)) throw new UsageError(`unknown rule ID '${id}' in ${option}`);
  }
  return ids;
}
