/** Messages from the notebook renderer to the extension host (through renderer messaging), with their validator. */

export const RENDERER_ID = 'loss-lens.capture-renderer';

export type RendererMessage = { type: 'openPanel'; captureId: string };

export function parseRendererMessage(value: unknown): RendererMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = value as Record<string, unknown>;
  if (message.type === 'openPanel' && typeof message.captureId === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(message.captureId)) {
    return { type: 'openPanel', captureId: message.captureId };
  }
  return undefined;
}
