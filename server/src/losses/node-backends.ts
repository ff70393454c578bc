/**
 * Node-only setup of the loss engine's backends: where the wasm backend's binaries are, and the optional
 * CUDA backend `@tensorflow/tfjs-node-gpu`, loaded lazily only when the user has installed it
 * (it downloads libtensorflow at install time and needs CUDA 11.2 / cuDNN 8.1; it is never bundled).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BackendUnavailableError, ExternalBackend, registerExternalBackend } from './engine';
import type { TensorFlow } from './tfjs-kernel';

const TFJS_NODE_GPU_INSTALL = 'npm install @tensorflow/tfjs-node-gpu';

/** The folder holding tfjs-backend-wasm*.wasm: next to the bundle (server/out/), or node_modules when run from source. */
export function wasmDirectory(): string {
  if (fs.existsSync(path.join(__dirname, 'tfjs-backend-wasm.wasm'))) return __dirname;
  // From source (tests, tsx): node_modules. Resolved by a computed name so that esbuild leaves it alone.
  const packageJson = ['@tensorflow', 'tfjs-backend-wasm', 'package.json'].join('/');
  return path.join(path.dirname(require.resolve(packageJson)), 'dist');
}

let configured = false;

/** Points the wasm backend at its binaries and registers the tfjs-node-gpu loader. Idempotent. */
export function configureNodeBackends(): void {
  if (configured) return;
  configured = true;
  setWasmPaths(wasmDirectory() + path.sep);
  registerExternalBackend('tfjs-node-gpu', loadTfjsNodeGpu);
}

let loaded: Promise<ExternalBackend> | undefined;

function loadTfjsNodeGpu(): Promise<ExternalBackend> {
  loaded ??= (async () => {
    let tfNode: TensorFlow & { backend(): unknown };
    try {
      // A plain require, kept out of the bundle (esbuild marks the package external): present only if the user installed it.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      tfNode = require('@tensorflow/tfjs-node-gpu');
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new BackendUnavailableError(
        `backend 'tfjs-node-gpu' is not installed (${reason}); install it with '${TFJS_NODE_GPU_INSTALL}' (needs CUDA 11.2 and cuDNN 8.1)`,
      );
    }
    await tfNode.ready();
    const usesGpu = tfjsNodeUsesGpu(tfNode.backend());
    return { tf: tfNode, usesGpu, label: usesGpu ? 'tfjs-node-gpu (CUDA)' : 'tfjs-node-gpu (CPU fallback)' };
  })();
  return loaded;
}

/** tfjs-node-gpu runs on the CPU without a word when CUDA is missing; its backend object knows. */
export function tfjsNodeUsesGpu(backend: unknown): boolean {
  if (backend && typeof backend === 'object' && 'isUsingGpuDevice' in backend) {
    return Boolean((backend as { isUsingGpuDevice: unknown }).isUsingGpuDevice);
  }
  return false;
}
