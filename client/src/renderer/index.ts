/**
 * Notebook renderer for `application/vnd.loss-lens.capture+json` (bundled to `client/out/renderer.js`):
 * a compact summary of the capture in the cell's output (loss, options, each tensor's dtype and
 * shape) and a link that opens the Loss Lens panel on it. DOM nodes only, no markup from data.
 */
import type { ActivationFunction } from 'vscode-notebook-renderer';
import { CAPTURE_MIME_TYPE, TENSOR_ROLES, parseCaptureRecord, type CaptureRecord } from '../capture/record';
import type { RendererMessage } from './messages';

function node<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  if (className) element.className = className;
  return element;
}

function renderSummary(record: CaptureRecord, openPanel: (() => void) | undefined): HTMLElement {
  const box = node('div', undefined, 'loss-lens-capture');
  box.style.cssText = 'font-family: var(--vscode-font-family); border-left: 3px solid var(--vscode-charts-blue, #3794ff); padding: 4px 10px;';
  const title = node('div');
  title.append(node('strong', 'Loss Lens capture'), ` · ${record.loss}`);
  const options = Object.entries(record.options).map(([key, value]) => `${key}=${String(value)}`);
  if (options.length) title.append(` (${options.join(', ')})`);
  box.append(title);
  const list = node('ul');
  list.style.margin = '2px 0';
  for (const role of TENSOR_ROLES) {
    const tensor = record.tensors[role];
    if (!tensor) continue;
    const origin = [tensor.originalDtype && tensor.originalDtype !== tensor.dtype ? `was ${tensor.originalDtype}` : '', tensor.device ?? '', tensor.requiresGrad ? 'requires_grad' : '']
      .filter(Boolean).join(', ');
    const sampled = tensor.sampled ? ` — inline copy: first ${tensor.sampled.rows} of ${tensor.sampled.originalShape[0]} rows` : '';
    list.append(node('li', `${role}: ${tensor.dtype}[${tensor.shape.join(', ')}]${origin ? ` (${origin})` : ''}${sampled}`));
  }
  box.append(list);
  if (openPanel) {
    const link = node('a', 'Open in the Loss Lens panel');
    link.href = '#';
    link.addEventListener('click', (event) => {
      event.preventDefault();
      openPanel();
    });
    box.append(link);
  }
  return box;
}

export const activate: ActivationFunction = (context) => ({
  renderOutputItem(outputItem, element) {
    if (outputItem.mime !== CAPTURE_MIME_TYPE) return;
    element.replaceChildren();
    try {
      const record = parseCaptureRecord(outputItem.json());
      const post = context.postMessage;
      const openPanel = post ? () => post({ type: 'openPanel', captureId: record.id } satisfies RendererMessage) : undefined;
      element.append(renderSummary(record, openPanel));
    } catch (error) {
      element.append(node('div', `Loss Lens: this capture cannot be read (${error instanceof Error ? error.message : String(error)}).`));
    }
  },
});
