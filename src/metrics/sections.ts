/**
 * Texts packed into one Buffer as UTF-8: a header of uint32 LE offsets (where section 0 starts,
 * then where each section ends), then the sections end to end. A target's metric lines held so
 * cost the V8 heap one small object, where a string per family (and the cons-string trees that
 * concatenation leaves) cost dozens, and a scrape copies a section's bytes without encoding them.
 */
export function packSections(texts: readonly string[]): Buffer {
  const headerBytes = 4 * (texts.length + 1);
  const lengths = texts.map((text) => Buffer.byteLength(text));
  // Slow: a buffer of its own at the exact size, not a slice that would pin an 8 KB pool slab.
  const packed = Buffer.allocUnsafeSlow(lengths.reduce((sum, n) => sum + n, headerBytes));
  let end = headerBytes;
  packed.writeUInt32LE(end, 0);
  texts.forEach((text, i) => {
    if (text !== '') end += packed.write(text, end);
    packed.writeUInt32LE(end, 4 * (i + 1));
  });
  return packed;
}

/** Where section `index` starts in `packed`. */
export function sectionStart(packed: Buffer, index: number): number {
  return packed.readUInt32LE(4 * index);
}

/** Where section `index` ends in `packed` (its start when it is empty). */
export function sectionEnd(packed: Buffer, index: number): number {
  return packed.readUInt32LE(4 * index + 4);
}

export function sectionText(packed: Buffer, index: number): string {
  return packed.toString('utf8', sectionStart(packed, index), sectionEnd(packed, index));
}
