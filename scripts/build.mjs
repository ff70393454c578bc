// Bundles the extension host, the language server, the CLI and the browser bundles with esbuild,
// and copies the wasm files that the bundles load at run time next to them.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const nodeCommon = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // web-tree-sitter's ESM build reads import.meta.url; a CommonJS bundle needs its CommonJS build.
  // jsonc-parser's `main` is a UMD build whose internal requires esbuild cannot follow; bundle its ESM build instead.
  alias: {
    'web-tree-sitter': require.resolve('web-tree-sitter'),
    'jsonc-parser': path.join(path.dirname(require.resolve('jsonc-parser/package.json')), 'lib', 'esm', 'main.js'),
  },
  // The optional CUDA backend is loaded lazily when the user has it installed; never bundled.
  external: ['vscode', '@tensorflow/tfjs-node-gpu'],
};

const builds = [
  { ...nodeCommon, entryPoints: ['server/src/server.ts'], outfile: 'server/out/server.js' },
  { ...nodeCommon, entryPoints: ['server/src/cli/main.ts'], outfile: 'server/out/cli.js' },
  // The CLI runs the engine in this worker thread, to stop an analysis that does not return (see isolated-analyzer.ts).
  { ...nodeCommon, entryPoints: ['server/src/cli/analysis-worker.ts'], outfile: 'server/out/analysis-worker.js' },
  { ...nodeCommon, entryPoints: ['client/src/extension.ts'], outfile: 'client/out/extension.js' },
  // The loss engine's worker threads (parallel.ts), beside each bundle that starts them: the CLI and the extension host.
  { ...nodeCommon, entryPoints: ['server/src/losses/kernel-worker.ts'], outfile: 'server/out/kernel-worker.js' },
  { ...nodeCommon, entryPoints: ['server/src/losses/kernel-worker.ts'], outfile: 'client/out/kernel-worker.js' },
  // The panel's analyses on the extension host (the engine and TensorFlow.js), loaded on first use by provider.ts.
  { ...nodeCommon, entryPoints: ['client/src/panel/host-analysis.ts'], outfile: 'client/out/host-analysis.js' },
  {
    bundle: true, platform: 'browser', format: 'iife', target: 'es2022', sourcemap: !production, minify: production,
    logLevel: 'warning', entryPoints: ['client/src/panel/webview/main.ts'], outfile: 'client/out/panel.js',
  },
  {
    bundle: true, platform: 'browser', format: 'esm', target: 'es2022', sourcemap: !production, minify: production,
    logLevel: 'warning', entryPoints: ['client/src/renderer/index.ts'], outfile: 'client/out/renderer.js',
  },
].filter((options) => fs.existsSync(path.join(root, options.entryPoints[0])));

function copyRuntimeFiles() {
  const copies = [
    [require.resolve('web-tree-sitter/web-tree-sitter.wasm'), 'server/out'],
    [path.join(path.dirname(require.resolve('tree-sitter-python/package.json')), 'tree-sitter-python.wasm'), 'server/out'],
  ];
  const tfjsWasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of fs.readdirSync(tfjsWasmDir).filter((name) => name.endsWith('.wasm'))) {
    copies.push([path.join(tfjsWasmDir, file), 'server/out'], [path.join(tfjsWasmDir, file), 'client/out']);
  }
  for (const [from, toDir] of copies) {
    fs.mkdirSync(path.join(root, toDir), { recursive: true });
    fs.copyFileSync(from, path.join(root, toDir, path.basename(from)));
  }
}

process.chdir(root);
copyRuntimeFiles();
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
  console.log('[loss-lens] watching for changes');
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
