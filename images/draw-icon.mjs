// Draws images/icon.png (128x128): a lens over a falling loss curve. Run: node images/draw-icon.mjs
// Written as a tiny rasteriser (4x4 supersampling) so that the icon needs no image tools.
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';

const size = 128;
const samples = 4;
const background = [30, 42, 58];
const lensRing = [236, 240, 245];
const curve = [255, 153, 51];
const glass = [44, 66, 92];

const lensCenter = [54, 54];
const lensRadius = 38;
const ringWidth = 8;

function insideRoundedSquare(x, y) {
  const radius = 24;
  const cx = Math.min(Math.max(x, radius), size - radius);
  const cy = Math.min(Math.max(y, radius), size - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

function distanceToSegment(x, y, [ax, ay], [bx, by]) {
  const t = Math.max(0, Math.min(1, ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)));
  return Math.hypot(x - (ax + t * (bx - ax)), y - (ay + t * (by - ay)));
}

// The loss curve: exponential decay across the lens, drawn as a thick polyline.
const curvePoints = Array.from({ length: 33 }, (_, index) => {
  const x = 24 + index * 2;
  return [x, 30 + 44 * (1 - Math.exp(-(x - 24) / 14))];
});

function colourAt(x, y) {
  if (!insideRoundedSquare(x, y)) return null;
  const fromLens = Math.hypot(x - lensCenter[0], y - lensCenter[1]);
  const onHandle = distanceToSegment(x, y, [82, 82], [108, 108]) <= 7;
  if (onHandle || Math.abs(fromLens - lensRadius) <= ringWidth / 2) return lensRing;
  if (fromLens < lensRadius) {
    const nearCurve = curvePoints.slice(1).some((point, index) => distanceToSegment(x, y, curvePoints[index], point) <= 3.2);
    return nearCurve ? curve : glass;
  }
  return background;
}

const rows = [];
for (let py = 0; py < size; py++) {
  const row = Buffer.alloc(1 + size * 4);
  for (let px = 0; px < size; px++) {
    const sum = [0, 0, 0, 0];
    for (let sy = 0; sy < samples; sy++) {
      for (let sx = 0; sx < samples; sx++) {
        const colour = colourAt(px + (sx + 0.5) / samples, py + (sy + 0.5) / samples);
        if (colour === null) continue;
        sum[0] += colour[0];
        sum[1] += colour[1];
        sum[2] += colour[2];
        sum[3] += 1;
      }
    }
    const offset = 1 + px * 4;
    if (sum[3] > 0) for (let channel = 0; channel < 3; channel++) row[offset + channel] = Math.round(sum[channel] / sum[3]);
    row[offset + 3] = Math.round((255 * sum[3]) / samples ** 2);
  }
  rows.push(row);
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

const header = Buffer.alloc(13);
header.writeUInt32BE(size, 0);
header.writeUInt32BE(size, 4);
header[8] = 8; // bit depth
header[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
  chunk('IEND', Buffer.alloc(0)),
]);
fs.writeFileSync(new URL('./icon.png', import.meta.url), png);
