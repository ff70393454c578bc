import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModuleResolver, normalizeFilePath } from '../../server/src/analysis/modules';
import { DiskProjectFiles } from '../../server/src/workspace/disk-files';

/** Module resolution (server/src/analysis/modules.ts) on real folders, as the CLI reads them. */

let root: string;
const files: Record<string, string> = {
  'proj/pyproject.toml': '[project]\nname = "proj"\n\n[tool.setuptools.packages.find]\nwhere = ["lib"]\n',
  'proj/train.py': '',
  'proj/model.py': '',
  'proj/pkg/__init__.py': 'from .models import Net\n',
  'proj/pkg/models.py': '',
  'proj/pkg/sub/deep.py': '',
  'proj/pkg/sub/__init__.py': '',
  'proj/ns/part/mod.py': '',
  'proj/other/ns/part/second.py': '',
  'proj/src/srcpkg/__init__.py': '',
  'proj/lib/libpkg/core.py': '',
  'proj/notebooks/explore.ipynb': '{}',
  'proj/torch.py': '',
  'proj/scripts/model.py': '',
  'proj/scripts/run.py': '',
  'outside/vendored.py': '',
};

before(() => {
  root = normalizeFilePath(fs.mkdtempSync(path.join(os.tmpdir(), 'loss-lens-modules-')));
  for (const [relative, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    fs.writeFileSync(path.join(root, relative), text);
  }
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

function resolver(): ModuleResolver {
  return new ModuleResolver(new DiskProjectFiles());
}

describe('module resolution', () => {
  it('finds the project root upward (pyproject.toml) and searches the file folder, added roots, root, where= and src/', () => {
    const r = resolver();
    assert.equal(r.projectRootOf(`${root}/proj/pkg/sub`), `${root}/proj`);
    assert.deepEqual(r.rootsFor(`${root}/proj/scripts/run.py`), [`${root}/proj/scripts`, `${root}/proj`, `${root}/proj/lib`, `${root}/proj/src`]);
  });

  it('a module beside the importing file, and the file folder before the project root', () => {
    const r = resolver();
    assert.equal(r.resolve(`${root}/proj/train.py`, 'model', 0)?.file, `${root}/proj/model.py`);
    assert.equal(r.resolve(`${root}/proj/scripts/run.py`, 'model', 0)?.file, `${root}/proj/scripts/model.py`);
  });

  it('packages through __init__.py, dotted submodules, src layout and where=', () => {
    const r = resolver();
    const pkg = r.resolve(`${root}/proj/train.py`, 'pkg', 0)!;
    assert.equal(pkg.file, `${root}/proj/pkg/__init__.py`);
    assert.equal(r.submodule(pkg, 'models')?.file, `${root}/proj/pkg/models.py`);
    assert.equal(r.resolve(`${root}/proj/train.py`, 'pkg.sub.deep', 0)?.file, `${root}/proj/pkg/sub/deep.py`);
    assert.equal(r.resolve(`${root}/proj/notebooks/explore.ipynb`, 'srcpkg', 0)?.file, `${root}/proj/src/srcpkg/__init__.py`);
    assert.equal(r.resolve(`${root}/proj/train.py`, 'libpkg.core', 0)?.file, `${root}/proj/lib/libpkg/core.py`);
  });

  it('relative imports: from . import x, from ..pkg.mod import X', () => {
    const r = resolver();
    const here = r.resolve(`${root}/proj/pkg/sub/deep.py`, '', 1)!;
    assert.equal(here.file, `${root}/proj/pkg/sub/__init__.py`);
    assert.equal(r.resolve(`${root}/proj/pkg/sub/deep.py`, 'models', 2)?.file, `${root}/proj/pkg/models.py`);
    assert.equal(r.resolve(`${root}/proj/pkg/sub/deep.py`, 'nothing', 2), undefined);
  });

  it('namespace packages (no __init__.py) span every root that has the folder', () => {
    const r = resolver();
    const part = r.resolve(`${root}/proj/train.py`, 'ns.part', 0, ['other'])!;
    assert.equal(part.file, undefined);
    assert.deepEqual(part.searchDirs, [`${root}/proj/ns/part`, `${root}/proj/other/ns/part`]);
    assert.equal(r.submodule(part, 'mod')?.file, `${root}/proj/ns/part/mod.py`);
    assert.equal(r.submodule(part, 'second')?.file, `${root}/proj/other/ns/part/second.py`);
  });

  it('sys.path additions are relative to the importing file and may leave the project', () => {
    const r = resolver();
    assert.equal(r.resolve(`${root}/proj/notebooks/explore.ipynb`, 'vendored', 0), undefined);
    assert.equal(r.resolve(`${root}/proj/notebooks/explore.ipynb`, 'vendored', 0, ['../../outside'])?.file, `${root}/outside/vendored.py`);
  });

  it('installed libraries the engine models are never taken from a same-named project file; unknown names are not resolved', () => {
    const r = resolver();
    assert.equal(r.resolve(`${root}/proj/train.py`, 'torch', 0), undefined);
    assert.equal(r.resolve(`${root}/proj/train.py`, 'transformers', 0), undefined);
  });
});
