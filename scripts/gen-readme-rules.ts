/**
 * Generates the README's rule list from the registry (`server/src/rules/index.ts`), so that the README can never
 * drift from what the engine reports.
 *
 *   npx tsx scripts/gen-readme-rules.ts           rewrite README.md between <!-- rules:start --> and <!-- rules:end -->
 *   npx tsx scripts/gen-readme-rules.ts --check   exit 1 when README.md is out of date (used by a test)
 *   npx tsx scripts/gen-readme-rules.ts --print   print the generated section only
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RuleInfo } from '../server/src/analysis/types';
import { RULES } from '../server/src/rules/index';

const START = '<!-- rules:start -->';
const END = '<!-- rules:end -->';
const README = path.join(__dirname, '..', 'README.md');

const CATEGORY_TITLES: Record<RuleInfo['category'], string> = {
  scores: 'Scores into the wrong loss',
  targets: 'Targets',
  configuration: 'Loss configuration and gradient flow',
  runtime: 'Run-time checks (notebook panel and `loss-lens loss`, on captured tensors)',
};

export function renderRules(rules: readonly RuleInfo[]): string {
  const sections: string[] = [];
  for (const category of Object.keys(CATEGORY_TITLES) as RuleInfo['category'][]) {
    const inCategory = rules.filter((rule) => rule.category === category);
    if (inCategory.length === 0) continue;
    sections.push(`### ${CATEGORY_TITLES[category]}`);
    for (const rule of inCategory) {
      const fix = rule.fix ? ` Fix: ${rule.fix}` : '';
      sections.push(
        `- [\`${rule.id}\`](docs/rules/${rule.id}.md) (${rule.severity}): ${rule.description}${fix}\n\n` +
          `  \`\`\`python\n${rule.example.split('\n').map((line) => `  ${line}`.trimEnd()).join('\n')}\n  \`\`\``,
      );
    }
  }
  return `<!-- Generated from server/src/rules by scripts/gen-readme-rules.ts: edit the rules, then run it. -->\n\n${sections.join('\n\n')}\n`;
}

/** The README with the generated section between the markers; `undefined` when the markers are missing. */
export function withRules(readme: string, rules: readonly RuleInfo[]): string | undefined {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return undefined;
  return `${readme.slice(0, start + START.length)}\n${renderRules(rules)}${readme.slice(end)}`;
}

function main(args: string[]): number {
  if (args.includes('--print')) {
    process.stdout.write(renderRules(RULES));
    return 0;
  }
  const readme = fs.existsSync(README) ? fs.readFileSync(README, 'utf8') : `# Loss Lens\n\n## Rules\n\n${START}\n${END}\n`;
  const updated = withRules(readme, RULES);
  if (updated === undefined) {
    process.stderr.write(`README.md has no ${START} … ${END} markers\n`);
    return 2;
  }
  if (args.includes('--check')) {
    if (updated === readme) return 0;
    process.stderr.write('README.md rule list is out of date: run `npx tsx scripts/gen-readme-rules.ts`\n');
    return 1;
  }
  if (updated !== readme) fs.writeFileSync(README, updated);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
