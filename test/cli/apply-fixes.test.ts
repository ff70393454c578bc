import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnalysisResult, Finding, ProgramSource, TextEdit } from '../../server/src/analysis/types';
import { AnalyzeFunction, fixProgram, MAX_FIX_ROUNDS, offsetAt } from '../../server/src/cli/apply-fixes';
import { isReadFailure, programFileFromText } from '../../server/src/cli/program-file';
import { notebookJson } from './cli-harness';

/** The fix loop against a scripted engine: each call returns the findings the script computes from the program. */
function scriptedEngine(findingsFor: (source: ProgramSource) => Finding[]): { analyze: AnalyzeFunction; calls: () => number } {
  let calls = 0;
  const analyze: AnalyzeFunction = async (source) => {
    calls++;
    const result: AnalysisResult = { findings: findingsFor(source), lossCalls: [], truncated: false, parseErrors: [] };
    return result;
  };
  return { analyze, calls: () => calls };
}

function edit(cell: number | undefined, line: number, start: number, end: number, newText: string): TextEdit {
  const range = { start: { line, character: start }, end: { line, character: end } };
  return { location: cell === undefined ? { range } : { cell, range }, newText };
}

function finding(rule: string, edits: TextEdit[]): Finding {
  return { rule, severity: 'error', message: rule, location: edits[0].location, related: [], fix: { title: rule, edits } };
}

function program(kind: 'file' | 'notebook', text: string) {
  const file = programFileFromText(kind, text);
  if (isReadFailure(file)) throw new Error(file.error);
  return file;
}

describe('the fix loop', () => {
  it('applies non-overlapping fixes together, defers an overlapping one to the next round', async () => {
    // Round 1 offers three fixes, two of which overlap on `softmax(`: the later one is held back, and in round 2
    // the scripted engine no longer reports it, because the first fix removed its text.
    const engine = scriptedEngine((source) => {
      const text = source.units[0].text;
      const found: Finding[] = [];
      if (text.includes('F.softmax(z, dim=1)')) found.push(finding('drop-softmax', [edit(undefined, 0, 4, 23, 'z')]));
      if (text.includes('softmax(z')) found.push(finding('overlapping', [edit(undefined, 0, 6, 13, 'SOFTMAX')]));
      if (text.includes('y.float()')) found.push(finding('long-target', [edit(undefined, 1, 6, 11, 'long')]));
      return found;
    });
    const outcome = await fixProgram(engine.analyze, program('file', 'p = F.softmax(z, dim=1)\nt = y.float()\n'), {});
    assert.equal(outcome.program.text, 'p = z\nt = y.long()\n');
    assert.equal(outcome.fixed, 2);
    assert.deepEqual(outcome.result.findings, []);
  });

  it('counts findings that share one fix once applied, and edits several cells of a notebook at once', async () => {
    const shared = [edit(1, 0, 4, 23, 'z'), edit(3, 0, 0, 1, 'L')];
    const engine = scriptedEngine((source) =>
      source.units.some((unit) => unit.text.includes('softmax')) ? [finding('a', shared), finding('b', shared)] : [],
    );
    const text = notebookJson([{ type: 'markdown', source: '# t\n' }, { source: 'p = F.softmax(z, dim=1)\n' }, { source: 'x = 1\n' }, { source: 'loss = f(p)' }]);
    const outcome = await fixProgram(engine.analyze, program('notebook', text), {});
    assert.equal(outcome.fixed, 2);
    const cells = JSON.parse(outcome.program.text).cells;
    assert.deepEqual(cells.map((cell: { source: string[] }) => cell.source.join('')), ['# t\n', 'p = z\n', 'x = 1\n', 'Loss = f(p)']);
  });

  it('applies no fix that a capture refutes for one of its findings, nor one that edits the same text', async () => {
    // One softmax feeding two losses: the capture of one call refutes it, the other's confirms it. The shared fix stays
    // out, and so does another fix over the same text; a fix elsewhere applies.
    const shared = [edit(undefined, 0, 4, 23, 'z')];
    const refuted: Finding = { ...finding('a', shared), severity: 'information', confirmation: { verdict: 'refuted', capture: 'c', configured: 1, corrected: null, gradientNormRatio: null, checks: [], message: 'refuted' } };
    const engine = scriptedEngine((source) => {
      const text = source.units[0].text;
      const found: Finding[] = [];
      if (text.includes('F.softmax(z, dim=1)')) found.push(refuted, finding('b', shared), finding('overlapping', [edit(undefined, 0, 6, 13, 'SOFTMAX')]));
      if (text.includes('y.float()')) found.push(finding('long-target', [edit(undefined, 1, 6, 11, 'long')]));
      return found;
    });
    const outcome = await fixProgram(engine.analyze, program('file', 'p = F.softmax(z, dim=1)\nt = y.float()\n'), {});
    assert.equal(outcome.program.text, 'p = F.softmax(z, dim=1)\nt = y.long()\n');
    assert.equal(outcome.fixed, 1);
  });

  it('skips a fix whose edit lies outside the program, and stops after a bounded number of rounds', async () => {
    const outside = scriptedEngine(() => [finding('outside', [edit(undefined, 5, 0, 1, 'x')]), finding('in-a-missing-cell', [edit(7, 0, 0, 1, 'x')])]);
    const unchanged = await fixProgram(outside.analyze, program('file', 'a = 1\n'), {});
    assert.equal(unchanged.fixed, 0);
    assert.equal(unchanged.program.text, 'a = 1\n');

    // An engine that always offers a fix that changes the text: the loop still ends.
    const endless = scriptedEngine(() => [finding('grow', [edit(undefined, 0, 0, 0, '#')])]);
    const bounded = await fixProgram(endless.analyze, program('file', 'a = 1\n'), {});
    assert.equal(bounded.fixed, MAX_FIX_ROUNDS);
    assert.equal(endless.calls(), MAX_FIX_ROUNDS + 1);
  });

  it('maps line/character positions to offsets, rejecting positions past a line end', () => {
    const text = 'ab\r\ncd\nef';
    assert.equal(offsetAt(text, { line: 0, character: 3 }), 3); // the \r belongs to line 0
    assert.equal(offsetAt(text, { line: 1, character: 1 }), 5);
    assert.equal(offsetAt(text, { line: 2, character: 2 }), 9);
    assert.equal(offsetAt(text, { line: 1, character: 3 }), undefined);
    assert.equal(offsetAt(text, { line: 3, character: 0 }), undefined);
  });
});
