/**
 * `bytes` in a buffer of its own, for keeping: as it is when it already is one, else copied at
 * its exact size. A view would keep alive whatever it is cut from (a PEM file, a TLS session, a
 * handshake recording), and a copy from Node's shared pool (Buffer.from) the pool's 8 KB slab.
 */
export function ownBuffer(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}
