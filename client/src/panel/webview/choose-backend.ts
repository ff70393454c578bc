/**
 * The webview's automatic choice of where a capture is computed. A GPU that is really a software rasteriser
 * (Chromium's SwiftShader, Mesa's llvmpipe/softpipe, Windows' "Microsoft Basic Render Driver") is slower than
 * the extension host's kernel on every core by an order of magnitude, so it is never chosen automatically; a
 * hardware GPU must prove itself in a short calibration on the capture's own shapes (its first rows) against the
 * host (or, without a host, the webview's own `js` kernel). Browser-safe; `decideBackend` is pure, for tests.
 */
import type { BackendChoice } from './engine';

/** What the webview's GPU APIs say about themselves. */
export interface GpuProbe {
  webgpu?: { description: string; software: boolean };
  webgl?: { renderer: string; software: boolean };
}

/** Where an analysis runs: a backend in this webview, or the extension host's kernel. */
export type AnalysisPath = BackendChoice | 'host';

export interface BackendDecision {
  path: AnalysisPath;
  /** Why, in words, for the badge. */
  reason: string;
}

/** Below this many input elements the webview's own host kernel finishes before a message round trip or a shader compile. */
export const SMALL_CAPTURE_ELEMENTS = 1 << 16;

const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|software|basic render driver/i;

export function isSoftwareRenderer(description: string): boolean {
  return SOFTWARE_RENDERERS.test(description);
}

interface WebGpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: Record<string, unknown> & { isFallbackAdapter?: boolean };
  requestAdapterInfo?: () => Promise<Record<string, unknown>>;
}

/** Asks WebGPU and WebGL what they run on (renderer strings, WebGPU's fallback flag); a missing API is left out. */
export async function probeGpus(): Promise<GpuProbe> {
  const probe: GpuProbe = {};
  try {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<WebGpuAdapterLike | null> } }).gpu;
    const adapter = gpu ? await gpu.requestAdapter() : null;
    if (adapter) {
      const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
      const description = ['vendor', 'architecture', 'device', 'description'].map((key) => info[key]).filter((part) => typeof part === 'string' && part).join(' ');
      const fallback = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true;
      probe.webgpu = { description: description || 'unknown adapter', software: fallback || isSoftwareRenderer(description) };
    }
  } catch {
    // No WebGPU here.
  }
  try {
    const canvas = document.createElement('canvas');
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (gl) {
      const debug = gl.getExtension('WEBGL_debug_renderer_info');
      const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
      probe.webgl = { renderer, software: isSoftwareRenderer(renderer) };
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
  } catch {
    // No WebGL here.
  }
  return probe;
}

/** The hardware GPU backend worth calibrating, if any (WebGPU first: TensorFlow.js's faster path). */
export function hardwareGpu(probe: GpuProbe): 'webgpu' | 'webgl' | undefined {
  if (probe.webgpu && !probe.webgpu.software) return 'webgpu';
  if (probe.webgl && !probe.webgl.software) return 'webgl';
  return undefined;
}

function describeSoftware(probe: GpuProbe): string {
  const parts: string[] = [];
  if (probe.webgpu?.software) parts.push(`WebGPU is a fallback adapter (${probe.webgpu.description})`);
  if (probe.webgl?.software) parts.push(`WebGL renders in software (${probe.webgl.renderer})`);
  return parts.length ? parts.join('; ') : 'no WebGPU or WebGL here';
}

/** Calibration timings on the same first rows, in milliseconds (undefined: that path failed or was not timed). */
export interface Calibration {
  /** The fraction of the input's elements the calibration ran on. */
  fraction: number;
  gpu?: number;
  cpu?: number;
}

/**
 * The decision. Without calibration figures: small captures stay in the webview, software GPUs are ruled out.
 * With them: the faster of the hardware GPU and the CPU path (the host when there is one), extrapolated from the slice.
 */
export function decideBackend(options: { elements: number; hostAvailable: boolean; probe: GpuProbe; calibration?: Calibration }): BackendDecision {
  const { elements, hostAvailable, probe, calibration } = options;
  const cpuPath: AnalysisPath = hostAvailable ? 'host' : 'js';
  const cpuName = hostAvailable ? 'the extension host on every core' : "this webview's JavaScript kernel";
  if (elements < SMALL_CAPTURE_ELEMENTS) return { path: 'js', reason: `small capture (${elements.toLocaleString('en-US')} elements): computed in the webview` };
  const gpu = hardwareGpu(probe);
  if (!gpu) return { path: cpuPath, reason: `${describeSoftware(probe)}: computed by ${cpuName}` };
  if (!calibration || calibration.gpu === undefined) return { path: cpuPath, reason: `${gpu} did not run the calibration: computed by ${cpuName}` };
  const scale = 1 / calibration.fraction;
  const gpuEstimate = calibration.gpu * scale;
  const cpuEstimate = (calibration.cpu ?? Infinity) * scale;
  const figures = `calibration on ${(calibration.fraction * 100).toFixed(0)}% of the rows: ${gpu} ~${Math.round(gpuEstimate)} ms, ${hostAvailable ? 'host' : 'js'} ~${Math.round(cpuEstimate)} ms`;
  return gpuEstimate < cpuEstimate ? { path: gpu, reason: `${figures}: ${gpu} (${gpu === 'webgpu' ? probe.webgpu!.description : probe.webgl!.renderer})` } : { path: cpuPath, reason: `${figures}: ${cpuName}` };
}
