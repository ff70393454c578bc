/**
 * Tokenises Python lines with the Loss Lens injection grammar through vscode-textmate (the engine
 * VS Code uses) on top of a given Python base grammar.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

const repositoryRoot = path.resolve(__dirname, '../..');
export const INJECTION_GRAMMAR_PATH = path.join(repositoryRoot, 'syntaxes/loss-lens-ignore.injection.tmLanguage.json');

export interface Token {
  text: string;
  scopes: string[];
}

let onigLibrary: Promise<textmate.IOnigLib> | undefined;

function loadOniguruma(): Promise<textmate.IOnigLib> {
  onigLibrary ??= (async () => {
    const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    return {
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text: string) => new oniguruma.OnigString(text),
    };
  })();
  return onigLibrary;
}

/** Loads `source.python` from `pythonGrammar` (a raw grammar object) with the injection applied as VS Code applies it. */
export async function loadPythonWithInjection(pythonGrammar: object): Promise<textmate.IGrammar> {
  const injection = JSON.parse(fs.readFileSync(INJECTION_GRAMMAR_PATH, 'utf8')) as { scopeName: string };
  const registry = new textmate.Registry({
    onigLib: loadOniguruma(),
    loadGrammar: async (scopeName) => {
      if (scopeName === 'source.python') return textmate.parseRawGrammar(JSON.stringify(pythonGrammar), 'python.json');
      if (scopeName === injection.scopeName) return textmate.parseRawGrammar(JSON.stringify(injection), INJECTION_GRAMMAR_PATH);
      return null;
    },
    // What `injectTo: ["source.python"]` in the manifest does inside VS Code.
    getInjections: (scopeName) => (scopeName === 'source.python' ? [injection.scopeName] : undefined),
  });
  const grammar = await registry.loadGrammar('source.python');
  if (grammar === null) throw new Error('source.python did not load');
  return grammar;
}

export function tokenizeLine(grammar: textmate.IGrammar, line: string): Token[] {
  const { tokens } = grammar.tokenizeLine(line, textmate.INITIAL);
  return tokens.map((token) => ({ text: line.slice(token.startIndex, token.endIndex), scopes: token.scopes }));
}

/** The tokens whose innermost scope starts with `scopePrefix`, as `text` strings. */
export function textsWithScope(tokens: Token[], scopePrefix: string): string[] {
  return tokens.filter((token) => token.scopes.some((scope) => scope.startsWith(scopePrefix))).map((token) => token.text);
}
