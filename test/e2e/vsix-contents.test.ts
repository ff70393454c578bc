/**
 * The .vsix `npm run package` produces: an installable, Marketplace-ready package that ships the
 * bundles and nothing of the sources or node_modules. (vscode.test.ts installs the same file.)
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import { REPOSITORY_ROOT, ensureVsix } from './codeServer';

interface Manifest {
  name: string;
  version: string;
  publisher: string;
  main: string;
  icon: string;
  engines: { vscode: string };
  activationEvents: string[];
  categories: string[];
  repository: { url: string };
  contributes: {
    commands: Array<{ command: string }>;
    configuration: { properties: Record<string, unknown> };
    grammars: Array<{ path: string; injectTo: string[] }>;
  };
}

describe('the packaged .vsix', { timeout: 10 * 60_000 }, () => {
  const vsix = ensureVsix();
  const entries = unzipSync(new Uint8Array(fs.readFileSync(vsix)));
  const files = Object.keys(entries).filter((name) => name.startsWith('extension/')).map((name) => name.slice('extension/'.length));
  const manifest = JSON.parse(Buffer.from(entries['extension/package.json']!).toString('utf8')) as Manifest;

  it('ships the bundles, the wasm they load, the grammar, the icon and the docs', () => {
    for (const required of [
      // vsce stores these three under the names the Marketplace looks for.
      'package.json', 'readme.md', 'changelog.md', 'LICENSE.txt', 'images/icon.png',
      'client/out/extension.js', 'server/out/server.js', 'server/out/tree-sitter-python.wasm', 'server/out/web-tree-sitter.wasm',
      'syntaxes/loss-lens-ignore.injection.tmLanguage.json',
    ]) {
      assert.ok(files.includes(required), `${required} is in the package (has: ${files.join(', ')})`);
    }
    assert.ok(files.some((file) => file.startsWith('docs/rules/') && file.endsWith('.md')), 'the rule pages are in the package');
  });

  it('ships no sources, tests, node_modules, source maps or local tooling', () => {
    const unwanted = files.filter((file) => /^(node_modules|client\/src|server\/src|test|scripts|bench|\.e2e|\.vscode|examples)\//.test(file) || file.endsWith('.map') || file.endsWith('.ts'));
    assert.deepEqual(unwanted, []);
  });

  it('has a Marketplace-ready manifest that VS Code 1.100 accepts', () => {
    assert.equal(manifest.engines.vscode, '^1.100.0');
    assert.equal(manifest.main, './client/out/extension.js');
    assert.ok(files.includes(manifest.icon));
    assert.deepEqual(manifest.activationEvents.sort(), ['onLanguage:python', 'onNotebook:interactive', 'onNotebook:jupyter-notebook']);
    assert.ok(manifest.categories.includes('Linters') && manifest.categories.includes('Notebooks'));
    assert.equal(manifest.repository.url, 'https://github.com/loss-lens/loss-lens');
    for (const setting of ['lossLens.rules', 'lossLens.frameworks', 'lossLens.trace.server']) {
      assert.ok(setting in manifest.contributes.configuration.properties, `${setting} is contributed`);
    }
    assert.ok(manifest.contributes.commands.some((command) => command.command === 'lossLens.restartServer'));
    const [grammar] = manifest.contributes.grammars;
    assert.deepEqual(grammar?.injectTo, ['source.python']);
    assert.ok(files.includes(grammar!.path.replace(/^\.\//, '')));
  });

  it('is built by `npm run package` with vsce, without node_modules', () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    assert.match(scripts.package ?? '', /vsce package --no-dependencies$/);
    assert.equal(manifest.publisher, 'loss-lens');
    assert.equal(manifest.name, 'loss-lens');
  });
});
