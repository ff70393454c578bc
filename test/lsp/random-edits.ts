/** Seeded random edits for the LSP tests, and diagnostics in a form that compares across URIs. */
import type { Diagnostic } from 'vscode-languageserver-protocol';

/** mulberry32: a small seeded PRNG, so a failing sequence can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = ['probs', 'F.softmax(', ')', '\n', '.float()', '.long()', '    ', 'x = ', 'criterion(', ', dim=1', '#', '"', 'def f():\n    ', 'é', '🙂'];

/** A random insertion or deletion in `text`, as an LSP ranged change computed from offsets. */
export function randomChange(random: () => number, text: string, positionAt: (offset: number) => { line: number; character: number }) {
  const at = Math.floor(random() * (text.length + 1));
  if (random() < 0.55 || text.length < 20) {
    const fragment = FRAGMENTS[Math.floor(random() * FRAGMENTS.length)];
    return { range: { start: positionAt(at), end: positionAt(at) }, text: fragment };
  }
  let end = Math.min(text.length, at + 1 + Math.floor(random() * 12));
  // Never split a surrogate pair: both sides would be left with half a character.
  const isLowSurrogate = (offset: number) => /[\udc00-\udfff]/.test(text.charAt(offset));
  const start = isLowSurrogate(at) ? at - 1 : at;
  if (isLowSurrogate(end)) end++;
  return { range: { start: positionAt(start), end: positionAt(end) }, text: '' };
}

/** Diagnostics without what depends on the URI they were published for, for comparing two documents with the same text. */
export function comparableDiagnostics(diagnostics: readonly Diagnostic[] | undefined) {
  return (diagnostics ?? [])
    .map((diagnostic) => ({
      code: diagnostic.code,
      severity: diagnostic.severity,
      message: diagnostic.message,
      range: diagnostic.range,
      related: (diagnostic.relatedInformation ?? []).map((info) => ({ range: info.location.range, message: info.message })),
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
