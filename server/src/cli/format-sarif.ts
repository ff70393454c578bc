import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RuleInfo, Severity } from '../analysis/types';
import type { CheckReport, CliLocation } from './report';

/**
 * SARIF 2.1.0 for code-scanning services (GitHub code scanning, Azure DevOps, the SARIF viewer).
 *
 * Paths become URIs relative to `%SRCROOT%` (the working directory, given in `originalUriBaseIds`) when the file
 * lies under it, absolute `file:` URIs otherwise. SARIF has no notion of a notebook cell, so a location in a cell
 * carries `properties.cell` (the 0-based index into the notebook's `cells` array, as in the JSON format) and its
 * region is relative to that cell, exactly like the JSON format's lines and columns. Columns are UTF-16 code units,
 * which the run declares with `columnKind`.
 */

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

const packageJson = require('../../../package.json') as { version: string; homepage?: string };
/** Where the rule catalogue is published; `homepage` in package.json wins when the project sets one. */
const PROJECT_HOME = packageJson.homepage ?? 'https://github.com/loss-lens/loss-lens';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', information: 'note', hint: 'note' };

interface SarifRegionLocation {
  physicalLocation: { artifactLocation: ArtifactLocation; region: Region };
  properties?: { cell: number };
}

interface ArtifactLocation {
  uri: string;
  uriBaseId?: string;
}

interface Region {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

export function formatSarif(report: CheckReport, rules: readonly RuleInfo[], cwd: string): string {
  const ruleIndex = new Map(rules.map((rule, index) => [rule.id, index]));
  const artifactLocation = (file: string): ArtifactLocation => {
    const absolute = path.resolve(cwd, file);
    const relative = path.relative(cwd, absolute);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return { uri: pathToFileURL(absolute).href };
    return { uri: relative.split(path.sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  };
  const region = (location: CliLocation): Region => ({
    startLine: location.line,
    startColumn: location.column,
    endLine: location.endLine,
    endColumn: location.endColumn,
  });
  const sarifLocation = (location: CliLocation): SarifRegionLocation => ({
    physicalLocation: { artifactLocation: artifactLocation(location.path), region: region(location) },
    ...(location.cell === undefined ? {} : { properties: { cell: location.cell } }),
  });

  const results = report.diagnostics.map((diagnostic) => ({
    ruleId: diagnostic.rule,
    ...(ruleIndex.has(diagnostic.rule) ? { ruleIndex: ruleIndex.get(diagnostic.rule) } : {}),
    level: LEVEL[diagnostic.severity],
    message: { text: diagnostic.message },
    locations: [sarifLocation(diagnostic)],
    properties: { source: diagnostic.source, ...(diagnostic.confirmation ? { confirmation: diagnostic.confirmation } : {}) },
    ...(diagnostic.related.length > 0
      ? {
          relatedLocations: diagnostic.related.map((related, index) => ({
            id: index,
            ...sarifLocation(related),
            message: { text: related.message },
          })),
        }
      : {}),
    ...(diagnostic.fix
      ? {
          fixes: [
            {
              description: { text: diagnostic.fix.title },
              artifactChanges: groupByPath(diagnostic.fix.edits).map(([file, edits]) => ({
                artifactLocation: artifactLocation(file),
                replacements: edits.map((edit) => ({
                  deletedRegion: region(edit),
                  insertedContent: { text: edit.newText },
                  ...(edit.cell === undefined ? {} : { properties: { cell: edit.cell } }),
                })),
              })),
            },
          ],
        }
      : {}),
  }));

  const notifications = [
    ...report.errors.map((error) => ({
      level: 'error',
      message: { text: error.message },
      locations: [{ physicalLocation: { artifactLocation: artifactLocation(error.path) } }],
    })),
    // A note's place (the first syntax error of a unit) is where its region starts; a note on a whole file has none.
    ...report.notes.map((note) => ({
      level: 'warning',
      message: { text: note.message },
      descriptor: { id: `loss-lens/${note.kind}` },
      locations: [
        {
          physicalLocation: {
            artifactLocation: artifactLocation(note.path),
            ...(note.line === undefined || note.column === undefined ? {} : { region: { startLine: note.line, startColumn: note.column } }),
          },
          ...(note.cell === undefined ? {} : { properties: { cell: note.cell } }),
        },
      ],
    })),
  ];

  const sarif = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'Loss Lens',
            semanticVersion: packageJson.version,
            version: packageJson.version,
            informationUri: PROJECT_HOME,
            rules: rules.map((rule) => ({
              id: rule.id,
              shortDescription: { text: rule.description },
              ...(rule.fix ? { help: { text: `Fix: ${rule.fix}\n\nExample of the misuse:\n${rule.example}` } } : {}),
              helpUri: `${PROJECT_HOME}/blob/main/docs/rules/${rule.id}.md`,
              defaultConfiguration: { level: LEVEL[rule.severity] },
              properties: { category: rule.category, tags: ['classification-loss', rule.category] },
            })),
          },
        },
        originalUriBaseIds: { '%SRCROOT%': { uri: `${pathToFileURL(cwd).href.replace(/\/?$/, '/')}` } },
        columnKind: 'utf16CodeUnits',
        invocations: [{ executionSuccessful: report.errors.length === 0, toolExecutionNotifications: notifications }],
        results,
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

function groupByPath<T extends { path: string }>(items: readonly T[]): [string, T[]][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(item.path, [...(groups.get(item.path) ?? []), item]);
  return [...groups];
}
