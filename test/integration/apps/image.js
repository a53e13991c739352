// Just enough image handling for the real-application tests, with nothing but zlib: decodes the PNGs
// Firefox writes (8-bit grey, RGB, palette, grey+alpha, RGBA; not interlaced), decodes the XWD file that
// Xvfb -fbdir keeps its frame buffer in, encodes RGBA as PNG (to keep a look at what the test saw), and
// counts how much of an image is one colour.
'use strict';
const zlib = require('zlib');

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** A PNG file → { width, height, rgba: Buffer (4 bytes a pixel) }; throws on what it does not handle. */
function decodePng(buf) {
  if (buf.length < 8 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG: bad signature');
  let pos = 8;
  let ihdr = null;
  let palette = null;
  const idat = [];
  while (pos + 8 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    pos += 12 + len;
    if (type === 'IHDR') {
      ihdr = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8], colour: data[9], interlace: data[12] };
    } else if (type === 'PLTE') palette = data;
    else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
  }
  if (!ihdr) throw new Error('not a PNG: no IHDR');
  const { width, height, depth, colour, interlace } = ihdr;
  const channels = CHANNELS[colour];
  if (depth !== 8 || !channels || interlace !== 0) throw new Error(`PNG not handled here: depth ${depth}, colour type ${colour}, interlace ${interlace}`);
  if (colour === 3 && !palette) throw new Error('PNG colour type 3 without PLTE');
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error(`PNG data too short: ${raw.length} bytes for ${width}x${height}`);
  const cur = Buffer.alloc(stride);
  const prev = Buffer.alloc(stride);
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    const line = raw.subarray(y * (stride + 1), (y + 1) * (stride + 1));
    unfilter(line[0], line.subarray(1), cur, prev, channels);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const s = x * channels;
      if (colour === 0) rgba.set([cur[s], cur[s], cur[s], 255], o);
      else if (colour === 4) rgba.set([cur[s], cur[s], cur[s], cur[s + 1]], o);
      else if (colour === 2) rgba.set([cur[s], cur[s + 1], cur[s + 2], 255], o);
      else if (colour === 6) rgba.set([cur[s], cur[s + 1], cur[s + 2], cur[s + 3]], o);
      else rgba.set([palette[cur[s] * 3], palette[cur[s] * 3 + 1], palette[cur[s] * 3 + 2], 255], o);
    }
    cur.copy(prev);
  }
  return { width, height, rgba };
}

function unfilter(type, line, out, prev, bpp) {
  for (let i = 0; i < line.length; i++) {
    const a = i >= bpp ? out[i - bpp] : 0;
    const b = prev[i];
    const c = i >= bpp ? prev[i - bpp] : 0;
    let p;
    switch (type) {
      case 0: p = 0; break;
      case 1: p = a; break;
      case 2: p = b; break;
      case 3: p = (a + b) >> 1; break;
      case 4: {
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
        break;
      }
      default: throw new Error(`PNG filter type ${type} is not one of 0-4`);
    }
    out[i] = (line[i] + p) & 0xff;
  }
}

/** An XWD (X Window Dump, version 7) file of a 24/32-bit TrueColor screen → { width, height, rgba }. */
function decodeXwd(buf) {
  if (buf.length < 100) throw new Error('not an XWD file: too short');
  const f = (i) => buf.readUInt32BE(i * 4);
  const [headerSize, version, , , width, height, , byteOrder, , , , bpp, bytesPerLine] = Array.from({ length: 13 }, (_, i) => f(i));
  const [redMask, greenMask, blueMask] = [f(14), f(15), f(16)];
  const ncolours = f(19);
  if (version !== 7) throw new Error(`XWD version ${version}, expected 7`);
  if (bpp !== 32) throw new Error(`XWD with ${bpp} bits a pixel is not handled here`);
  const start = headerSize + ncolours * 12;
  if (buf.length < start + height * bytesPerLine) throw new Error('XWD pixel data too short');
  const shift = (m) => 31 - Math.clz32(m & -m);
  const [rs, gs, bs] = [shift(redMask), shift(greenMask), shift(blueMask)];
  const rgba = Buffer.alloc(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = start + y * bytesPerLine + x * 4;
      const v = byteOrder ? buf.readUInt32BE(p) : buf.readUInt32LE(p);
      rgba.set([(v & redMask) >>> rs, (v & greenMask) >>> gs, (v & blueMask) >>> bs, 255], (y * width + x) * 4);
    }
  }
  return { width, height, rgba };
}

/** RGBA → a PNG file (colour type 6, filter 0 on every line). */
function encodePng({ width, height, rgba }) {
  const raw = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

// zlib.crc32 is only in newer Node releases.
let crcTable = null;
function crc32(buf) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** The share (0..1) of pixels within `tolerance` of [r, g, b] in every channel. */
function colourShare({ width, height, rgba }, [r, g, b], tolerance = 8) {
  let n = 0;
  for (let i = 0; i < width * height * 4; i += 4) {
    if (Math.abs(rgba[i] - r) <= tolerance && Math.abs(rgba[i + 1] - g) <= tolerance && Math.abs(rgba[i + 2] - b) <= tolerance) n++;
  }
  return width * height ? n / (width * height) : 0;
}

/** How many distinct colours (RGB) the image has, counting up to `cap`. */
function distinctColours({ width, height, rgba }, cap = 1000) {
  const seen = new Set();
  for (let i = 0; i < width * height * 4 && seen.size < cap; i += 4) seen.add((rgba[i] << 16) | (rgba[i + 1] << 8) | rgba[i + 2]);
  return seen.size;
}

module.exports = { decodePng, decodeXwd, encodePng, colourShare, distinctColours };
