// Imports between a project's files through the built server: the finding in the open file needs the module nobody
// opened (read from disk), edits of an open module and file events re-publish the open dependents.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { FileChangeType, MarkupContent } from 'vscode-languageserver-protocol';
import { listProjects, readProject, unitsOf } from '../projects/project-fixtures';
import { LspTestClient } from './harness';

function copyProject(name: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-lsp-project-'));
  fs.cpSync(readProject(name).dir, root, { recursive: true });
  return fs.realpathSync(root);
}

const uriOf = (file: string) => pathToFileURL(file).href;

describe('LSP: imports between project files', () => {
  let client: LspTestClient;
  before(async () => {
    client = await LspTestClient.start({ debounceMs: 0 });
  });
  after(async () => {
    await client.stop();
  });

  async function openFile(file: string): Promise<string> {
    const uri = uriOf(file);
    const mark = client.statuses.length;
    await client.openText(uri, fs.readFileSync(file, 'utf8'));
    await client.waitForReady(uri, 1, mark);
    return uri;
  }

  /** Waits until the server has published `count` diagnostics for `uri` (it publishes a list only when it changed). */
  function published(uri: string, count: number, why: string): Promise<true> {
    return client.waitFor(`${count} diagnostics on ${uri}: ${why}`, () => (client.diagnostics.get(uri) ?? []).length === count);
  }

  for (const project of listProjects()) {
    const expectedFiles = [...new Set(project.expected.map((mark) => mark.file))].filter((file) => file.endsWith('.py'));
    for (const file of expectedFiles) {
      it(`${project.name}: opening ${file} alone gives its marked findings, related to the unopened module`, async () => {
        const uri = await openFile(path.join(project.dir, file));
        try {
          const diagnostics = client.diagnostics.get(uri) ?? [];
          const found = diagnostics.map((d) => `${d.range.start.line}:${String(d.code)}`).sort();
          const expected = project.expected.filter((m) => m.file === file).map((m) => `${m.line}:${m.rule}`).sort();
          assert.deepEqual(found, expected);
          for (const mark of project.related) {
            const markUri = uriOf(path.join(project.dir, mark.file));
            const related = diagnostics.some((d) => d.code === mark.rule && d.relatedInformation?.some((r) => r.location.uri === markUri && r.location.range.start.line === mark.line));
            assert.ok(related, `relates to ${mark.file}:${mark.line + 1}`);
          }
        } finally {
          await client.closeText(uri);
        }
      });
    }
  }

  it('a notebook importing a local module: the finding in its cell relates to model.py', async () => {
    const project = readProject('notebook-import');
    const notebook = path.join(project.dir, 'notebooks', 'explore.ipynb');
    const notebookUri = uriOf(notebook);
    const mark = client.statuses.length;
    const cellUris = await client.openNotebook(
      notebookUri,
      JSON.parse(fs.readFileSync(notebook, 'utf8')).cells.map((cell: { cell_type: string; source: string[] }) => ({ kind: cell.cell_type === 'code' ? 'code' : 'markdown', text: cell.source.join('') })),
    );
    await client.waitForReady(notebookUri, 1, mark);
    const [diagnostic] = client.diagnostics.get(cellUris[3]) ?? [];
    assert.equal(diagnostic?.code, 'softmax-before-cross-entropy');
    assert.equal(diagnostic.relatedInformation?.[0].location.uri, uriOf(path.join(project.dir, 'model.py')));
    assert.equal(unitsOf(notebook).length, 3);
  });

  it('hover names where the fact came from; the quick fix edits the other file (a WorkspaceEdit across documents)', async () => {
    const root = copyProject('softmax-in-model');
    try {
      const uri = await openFile(path.join(root, 'train.py'));
      const [diagnostic] = client.diagnostics.get(uri) ?? [];
      assert.equal(diagnostic?.code, 'softmax-before-cross-entropy');
      const hover = await client.hover(uri, 11, 14);
      const text = (hover?.contents as MarkupContent).value;
      assert.match(text, /from Classifier\.forward in model\.py:11/);
      const actions = await client.codeActions(uri, [diagnostic]);
      const fix = actions.find((action) => action.isPreferred);
      const changes = fix?.edit?.documentChanges as { textDocument: { uri: string }; edits: { newText: string }[] }[];
      assert.deepEqual(changes.map((change) => change.textDocument.uri), [uriOf(path.join(root, 'model.py'))]);
      assert.equal(changes[0].edits[0].newText, 'self.fc(x)');
      await client.closeText(uri);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('editing the open module re-publishes the open dependent; closing the module unsaved brings the disk text back', async () => {
    const root = copyProject('softmax-in-model');
    try {
      const train = await openFile(path.join(root, 'train.py'));
      assert.equal(client.diagnostics.get(train)?.length, 1);
      const model = await openFile(path.join(root, 'model.py'));
      const line = client.documents.get(model)!.getText().split('\n').findIndex((l) => l.includes('F.softmax'));
      await client.changeText(model, [{ range: { start: { line, character: 15 }, end: { line, character: 43 } }, text: 'self.fc(x)' }]);
      assert.match(client.documents.get(model)!.getText(), /return self\.fc\(x\) {2}#/);
      await published(train, 0, 'the open model.py no longer applies softmax');
      await client.closeText(model);
      await published(train, 1, 'closed unsaved: model.py is the disk text again');
      await client.closeText(train);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('an edit of the open module clears the finding in every open dependent: a file and a notebook', async () => {
    const root = copyProject('notebook-import');
    try {
      fs.writeFileSync(path.join(root, 'train.py'), 'import torch\nimport torch.nn as nn\nfrom model import Net\n\nloss = nn.CrossEntropyLoss()(Net()(torch.randn(2, 64)), torch.tensor([0, 3]))\n');
      const train = await openFile(path.join(root, 'train.py'));
      const notebookUri = uriOf(path.join(root, 'notebooks', 'explore.ipynb'));
      const mark = client.statuses.length;
      const cellUris = await client.openNotebook(notebookUri, unitsOf(path.join(root, 'notebooks', 'explore.ipynb')).map((unit) => ({ kind: 'code' as const, text: unit.text })));
      await client.waitForReady(notebookUri, 1, mark);
      const lossCell = cellUris[2];
      assert.equal(client.diagnostics.get(train)?.length, 1);
      assert.equal(client.diagnostics.get(lossCell)?.length, 1);
      const model = await openFile(path.join(root, 'model.py'));
      const lines = client.documents.get(model)!.getText().split('\n');
      const line = lines.findIndex((l) => l.includes('nn.Softmax(dim=1)'));
      const column = lines[line].indexOf(', nn.Softmax(dim=1)');
      await client.changeText(model, [{ range: { start: { line, character: column }, end: { line, character: column + ', nn.Softmax(dim=1)'.length } }, text: '' }]);
      await published(train, 0, 'the softmax layer is gone from model.py');
      await published(lossCell, 0, 'the softmax layer is gone from model.py');
      await client.closeText(model);
      await published(train, 1, 'model.py closed unsaved');
      await published(lossCell, 1, 'model.py closed unsaved');
      await client.closeText(train);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a module changed on disk, deleted, and renamed back (workspace/didChangeWatchedFiles)', async () => {
    const root = copyProject('softmax-in-model');
    try {
      const modelFile = path.join(root, 'model.py');
      const train = await openFile(path.join(root, 'train.py'));
      assert.equal(client.diagnostics.get(train)?.length, 1);
      const original = fs.readFileSync(modelFile, 'utf8');
      const notify = (changes: { uri: string; type: FileChangeType }[]) => client.connection.sendNotification('workspace/didChangeWatchedFiles', { changes });

      fs.writeFileSync(modelFile, original.replace('F.softmax(self.fc(x), dim=1)', 'self.fc(x)'));
      await notify([{ uri: uriOf(modelFile), type: FileChangeType.Changed }]);
      await published(train, 0, 'model.py changed on disk');

      fs.writeFileSync(modelFile, original);
      await notify([{ uri: uriOf(modelFile), type: FileChangeType.Changed }]);
      await published(train, 1, 'model.py changed back');

      const renamed = path.join(root, 'network.py');
      fs.renameSync(modelFile, renamed);
      await notify([{ uri: uriOf(modelFile), type: FileChangeType.Deleted }, { uri: uriOf(renamed), type: FileChangeType.Created }]);
      await published(train, 0, 'model.py is gone: nothing is known of Classifier');

      fs.renameSync(renamed, modelFile);
      await notify([{ uri: uriOf(renamed), type: FileChangeType.Deleted }, { uri: uriOf(modelFile), type: FileChangeType.Created }]);
      await published(train, 1, 'model.py is back');
      await client.closeText(train);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
