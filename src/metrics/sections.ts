/**
 * Texts packed into one Buffer as UTF-8: a header of uint32 LE offsets (where section 0 starts,
 * then where each section ends), then the sections end to end, then unused room. A target's
 * metric lines held so cost the V8 heap one small object, where a string per family (and the
 * cons-string trees that concatenation leaves) cost dozens, and a scrape copies a section's bytes
 * without encoding them.
 *
 * Packed into `into` when they fit: a target's next probe writes over its last lines rather than
 * leave 3 KB of garbage per probe (30 MB a minute at 10,000 targets) that only a full collection
 * frees, and that fragments malloc's heap meanwhile. A scrape reading them at that moment copies
 * each section whole, before or after.
 *
 * Leading texts left undefined keep their sections as `into` has them, header included (the
 * same number of texts as it was packed from).
 */
export function packSections(texts: readonly (string | undefined)[], into?: Buffer): Buffer {
  const headerBytes = 4 * (texts.length + 1);
  let kept = 0;
  while (into !== undefined && kept < texts.length && texts[kept] === undefined) kept++;
  const keptEnd = into === undefined || kept === 0 ? headerBytes : sectionEnd(into, kept - 1);
  const bytes = texts.reduce((sum, text, i) => (i < kept ? sum : sum + Buffer.byteLength(text ?? '')), keptEnd);
  // Slow: a buffer of its own, not a slice that would pin an 8 KB pool slab; with room for the
  // next probe's lines, a few bytes longer or shorter.
  const packed = into !== undefined && into.length >= bytes ? into : Buffer.allocUnsafeSlow(bytes + ROOM);
  if (packed !== into && into !== undefined && kept > 0) into.copy(packed, 0, 0, keptEnd);
  let end = keptEnd;
  packed.writeUInt32LE(headerBytes, 0);
  for (let i = kept; i < texts.length; i++) {
    const text = texts[i] ?? '';
    if (text !== '') end += packed.write(text, end);
    packed.writeUInt32LE(end, 4 * (i + 1));
  }
  return packed;
}

/** Spare bytes in a packed buffer: a duration one digit longer, a counter passing a power of ten. */
const ROOM = 64;

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
