// Draws electron/assets/icon.png (512×512): a dark rounded tile with a glowing
// ring, the "halo" over a forge. Run with `node electron/assets/make-icon.mjs`;
// the PNG is committed, so builds never depend on an image tool.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const SAMPLES = 4; // per axis: 16 samples a pixel for smooth edges

const TILE = [20, 22, 26];
const RING = [240, 138, 56];
const CORE = [255, 214, 153];

function coverage(x, y) {
  // Returns [r, g, b, a] for one sample point.
  const c = SIZE / 2;
  const r = 108; // tile corner radius
  const inset = 16;
  const qx = Math.max(Math.abs(x - c) - (c - inset - r), 0);
  const qy = Math.max(Math.abs(y - c) - (c - inset - r), 0);
  if (Math.hypot(qx, qy) > r) return [0, 0, 0, 0];
  const d = Math.hypot(x - c, y - c);
  if (d >= 150 && d <= 196) return [...RING, 255];
  if (d <= 70) return [...CORE, 255];
  // A soft glow between the core and the ring.
  if (d < 150) {
    const t = Math.max(0, 1 - (d - 70) / 80) * 0.35;
    return [TILE[0] + (RING[0] - TILE[0]) * t, TILE[1] + (RING[1] - TILE[1]) * t, TILE[2] + (RING[2] - TILE[2]) * t, 255];
  }
  return [...TILE, 255];
}

const raw = Buffer.alloc((SIZE * 4 + 1) * SIZE);
for (let y = 0; y < SIZE; y++) {
  const row = y * (SIZE * 4 + 1);
  raw[row] = 0; // filter: none
  for (let x = 0; x < SIZE; x++) {
    let r = 0, g = 0, b = 0, a = 0;
    for (let sy = 0; sy < SAMPLES; sy++) {
      for (let sx = 0; sx < SAMPLES; sx++) {
        const [pr, pg, pb, pa] = coverage(x + (sx + 0.5) / SAMPLES, y + (sy + 0.5) / SAMPLES);
        r += pr * pa; g += pg * pa; b += pb * pa; a += pa;
      }
    }
    const o = row + 1 + x * 4;
    raw[o] = a ? Math.round(r / a) : 0;
    raw[o + 1] = a ? Math.round(g / a) : 0;
    raw[o + 2] = a ? Math.round(b / a) : 0;
    raw[o + 3] = Math.round(a / (SAMPLES * SAMPLES));
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
writeFileSync(new URL('./icon.png', import.meta.url), png);
process.stdout.write(`icon.png: ${png.length} bytes\n`);
