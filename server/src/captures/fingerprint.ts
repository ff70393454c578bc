/**
 * The fingerprint of the code a capture's tensors came from: a hash of each piece of Python code (a notebook cell, a
 * script), normalised so that edits that cannot change what the code computes (comments, blank lines, trailing
 * whitespace, spaces between tokens) keep the hash. The Python helper (`python/loss_lens/__init__.py`,
 * `_normalise_code` / `_code_hash`) computes the same hashes with the same rules; `test/python/fingerprint.test.ts`
 * checks that they agree. Changing the rules here means changing them there in the same commit.
 *
 * Browser-safe and synchronous (the matching that uses it is): SHA-256 is implemented here, not taken from Node or
 * SubtleCrypto.
 */

/** Hex digits kept of the SHA-256 (64 bits: collisions between edits of one notebook are out of reach). */
const HASH_HEX_DIGITS = 16;

/**
 * The code with comments and insignificant whitespace removed. Outside string literals: a `#` starts a comment (to
 * the end of the line); a run of spaces or tabs is dropped, or kept as one space where it separates two word
 * characters (`return x`, `a if b`); a line's leading indentation is kept as written (it is Python's block
 * structure); lines left empty are dropped. String literals (quotes `'`, `"`, triple quotes, a backslash escaping the
 * next character) are kept verbatim, newlines included.
 */
export function normaliseCode(code: string): string {
  // Copies runs of ordinary characters and whole string literals as slices (the LSP hashes on every edit).
  const text = code.includes('\r') ? code.replace(/\r\n?/g, '\n') : code;
  const n = text.length;
  const lines: string[] = [];
  let parts: string[] = [];
  let lastCode = -1; // the last character on the output line, as a UTF-16 code unit
  let atLineStart = true;
  const flush = () => {
    const line = parts.join('');
    if (line.trim() !== '') lines.push(line.trimEnd());
    parts = [];
    lastCode = -1;
    atLineStart = true;
  };
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === NEWLINE) {
      flush();
      i++;
    } else if (c === HASH) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? n : end;
    } else if (isBlank(c)) {
      let next = i + 1;
      while (next < n && isBlank(text.charCodeAt(next))) next++;
      if (atLineStart) {
        parts.push(text.slice(i, next));
        lastCode = SPACE;
      } else if (isWordCode(lastCode) && next < n && isWordCode(text.charCodeAt(next))) {
        parts.push(' ');
        lastCode = SPACE;
      }
      i = next;
    } else if (c === SINGLE_QUOTE || c === DOUBLE_QUOTE) {
      atLineStart = false;
      const length = text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c ? 3 : 1;
      let end = i + length;
      while (end < n) {
        const d = text.charCodeAt(end);
        if (d === BACKSLASH) end += 2;
        else if (d === c && (length === 1 || (text.charCodeAt(end + 1) === c && text.charCodeAt(end + 2) === c))) {
          end += length;
          break;
        } else end++;
      }
      end = Math.min(end, n);
      parts.push(text.slice(i, end));
      lastCode = text.charCodeAt(end - 1);
      i = end;
    } else {
      atLineStart = false;
      let end = i + 1;
      while (end < n && !isSpecial(text.charCodeAt(end))) end++;
      parts.push(text.slice(i, end));
      lastCode = text.charCodeAt(end - 1);
      i = end;
    }
  }
  flush();
  return lines.join('\n');
}

const NEWLINE = 10;
const SPACE = 32;
const HASH = 35;
const SINGLE_QUOTE = 39;
const DOUBLE_QUOTE = 34;
const BACKSLASH = 92;

/** Space, tab, form feed. */
function isBlank(code: number): boolean {
  return code === SPACE || code === 9 || code === 12;
}

function isSpecial(code: number): boolean {
  return code === NEWLINE || code === HASH || code === SINGLE_QUOTE || code === DOUBLE_QUOTE || isBlank(code);
}

/** Letters, digits, `_` and any non-ASCII character (Python identifiers may hold them). */
function isWordCode(code: number): boolean {
  return code > 127 || (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

/** The hash of a piece of code after `normaliseCode`; undefined for code that normalises to nothing (no statement). */
export function codeHash(code: string): string | undefined {
  const normalised = normaliseCode(code);
  return normalised === '' ? undefined : sha256Hex(new TextEncoder().encode(normalised)).slice(0, HASH_HEX_DIGITS);
}

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 (FIPS 180-4) of some bytes, as lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  const bitLength = bytes.length * 8;
  const padded = new Uint8Array((((bytes.length + 9 + 63) >> 6) << 6));
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bitLength / 2 ** 32));
  view.setUint32(padded.length - 4, bitLength >>> 0);
  const h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let block = 0; block < padded.length; block += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(block + t * 4);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], last = h[7];
    for (let t = 0; t < 64; t++) {
      const t1 = (last + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      last = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += last;
  }
  return Array.from(h, (word) => word.toString(16).padStart(8, '0')).join('');
}
