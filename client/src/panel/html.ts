/**
 * The panel webview's HTML: a strict Content Security Policy (scripts only with this load's nonce,
 * nothing from the network, WebAssembly allowed for the WASM backend), the bundle and styles.
 */
import * as crypto from 'node:crypto';

export interface PanelHtmlOptions {
  /** `webview.cspSource`: the origin of files served from the extension's `localResourceRoots`. */
  cspSource: string;
  scriptUri: string;
  /** Folder of the WASM backend's `.wasm` files (next to the bundle). */
  wasmFolderUri: string;
}

export function createNonce(): string {
  return crypto.randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

export function panelHtml(options: PanelHtmlOptions, nonce = createNonce()): string {
  const csp = [
    "default-src 'none'",
    `img-src ${options.cspSource} data: blob:`,
    `style-src ${options.cspSource} 'nonce-${nonce}'`,
    // 'wasm-unsafe-eval' lets the WASM backend compile its module; no 'unsafe-eval' for scripts.
    `script-src 'nonce-${nonce}' 'wasm-unsafe-eval'`,
    // fetch of the .wasm files from the extension folder; nothing else.
    `connect-src ${options.cspSource}`,
    `worker-src ${options.cspSource} blob:`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Loss Lens</title>
<style nonce="${nonce}">${PANEL_CSS}</style>
</head>
<body data-wasm-folder="${escapeAttribute(options.wasmFolderUri)}">
<div id="root"></div>
<script nonce="${nonce}" src="${escapeAttribute(options.scriptUri)}"></script>
</body>
</html>`;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

/** Styles in the editor's theme colours. Shared with the browser test page. */
const PANEL_CSS = `
body { font-family: var(--vscode-font-family, sans-serif); font-size: var(--vscode-font-size, 13px); color: var(--vscode-foreground, #ccc); background: var(--vscode-sideBar-background, #1e1e1e); padding: 0 10px; }
h1 { font-size: 1.2em; margin: 0.6em 0; } h2 { font-size: 1.1em; display: inline; margin-right: 0.5em; } h3 { font-size: 1em; margin: 1em 0 0.3em; }
.toolbar { margin: 8px 0; }
.badge { background: var(--vscode-badge-background, #4d4d4d); color: var(--vscode-badge-foreground, #fff); border-radius: 8px; padding: 1px 8px; font-size: 0.9em; }
.source { opacity: 0.8; font-size: 0.9em; }
.notice { color: var(--vscode-editorWarning-foreground, #cca700); }
.error { color: var(--vscode-errorForeground, #f48771); }
table { border-collapse: collapse; margin: 4px 0; width: 100%; }
th, td { text-align: left; padding: 2px 6px; border-bottom: 1px solid var(--vscode-panel-border, #444); font-variant-numeric: tabular-nums; }
td.unique { max-width: 18em; overflow-wrap: anywhere; }
ul.checks { padding-left: 1em; } li.check.error code, li.check.error .severity { color: var(--vscode-errorForeground, #f48771); }
li.check.warning .severity { color: var(--vscode-editorWarning-foreground, #cca700); }
li.check pre { margin: 2px 0; white-space: pre-wrap; }
ul.verdicts { padding-left: 1em; } li.verdict .verdict-label { font-weight: bold; }
li.verdict.confirmed .verdict-label, li.verdict.capture.error .verdict-label { color: var(--vscode-errorForeground, #f48771); }
li.verdict.refuted .verdict-label { color: var(--vscode-testing-iconPassed, #73c991); }
li.verdict.stale .verdict-label, li.verdict.capture.warning .verdict-label { color: var(--vscode-editorWarning-foreground, #cca700); }
ul.capture-list { list-style: none; padding: 0; } ul.capture-list li.selected button { font-weight: bold; }
button { background: var(--vscode-button-background, #0e639c); color: var(--vscode-button-foreground, #fff); border: none; padding: 3px 8px; margin: 2px 0; cursor: pointer; }
ul.capture-list button { background: transparent; color: inherit; text-align: left; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 10px; }
figure.chart { margin: 0; height: 200px; position: relative; padding-bottom: 1.5em; } figcaption { font-size: 0.9em; }
`;
