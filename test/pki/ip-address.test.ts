import { isIP, isIPv4, isIPv6 } from 'node:net';
import { bytesToIp, ipToBytes } from '../../src/pki/ip-address';
import { seeded } from '../support/seeded-random';


function hex(bytes: Buffer | undefined): string | undefined {
  return bytes?.toString('hex');
}

describe('ipToBytes', () => {
  it.each<[string, string]>([
    ['127.0.0.1', '7f000001'],
    ['0.0.0.0', '00000000'],
    ['255.255.255.255', 'ffffffff'],
    ['192.0.2.10', 'c000020a'],
  ])('returns the 4 bytes when given the IPv4 address %s', (text, bytes) => {
    expect(hex(ipToBytes(text))).toBe(bytes);
  });

  it.each<[string, string]>([
    ['::1', '00000000000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['1::', '00010000000000000000000000000000'],
    ['0:0:0:0:0:0:0:1', '00000000000000000000000000000001'],
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['2001:DB8::A', '20010db800000000000000000000000a'],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', '20010db8000000000000ff0000428329'],
    ['fe80::1:2', 'fe800000000000000000000000010002'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
    ['::ffff:127.0.0.1', '00000000000000000000ffff7f000001'],
    ['::ffff:7f00:1', '00000000000000000000ffff7f000001'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
  ])('returns the 16 bytes when given the IPv6 address %s', (text, bytes) => {
    expect(hex(ipToBytes(text))).toBe(bytes);
  });

  it('keeps an IPv4-mapped IPv6 address 16 bytes long, distinct from the IPv4 address', () => {
    // So "::ffff:127.0.0.1" can never match an iPAddress SAN of 127.0.0.1 (4 bytes).
    expect(ipToBytes('::ffff:127.0.0.1')).toHaveLength(16);
    expect(ipToBytes('::ffff:127.0.0.1')?.equals(ipToBytes('127.0.0.1') ?? Buffer.alloc(0))).toBe(false);
  });

  it.each([
    ['127.000.0.1'],
    ['127.0.0.01'],
    ['0127.0.0.1'],
    ['0x7f.0.0.1'],
    ['127.1'],
    ['2130706433'],
    ['256.0.0.1'],
    ['1.2.3'],
    ['1.2.3.4.5'],
    ['127.0.0.1.'],
    [' 127.0.0.1'],
    ['::ffff:127.000.0.1'],
    ['1:2:3:4:5:6:7:8:9'],
    ['1::2::3'],
    ['12345::1'],
    ['[::1]'],
    ['localhost'],
    ['example.com'],
    [''],
  ])('returns undefined when given %j, which node:net does not call an IP address', (text) => {
    // The code defers to node's parser: pin that node rejects these spellings, then that we do.
    expect(isIP(text)).toBe(0);
    expect(ipToBytes(text)).toBeUndefined();
  });
});

describe('bytesToIp', () => {
  it.each<[string, string]>([
    ['7f000001', '127.0.0.1'],
    ['00000000', '0.0.0.0'],
    ['ffffffff', '255.255.255.255'],
  ])('returns dotted decimal when given the 4 bytes %s', (bytes, text) => {
    expect(bytesToIp(Buffer.from(bytes, 'hex'))).toBe(text);
  });

  it.each<[string, string, string]>([
    ['compresses the longest zero run', '20010db8000000000000000000000001', '2001:db8::1'],
    ['writes lower-case hex without leading zeros', '20010db8000000000000ff0000428329', '2001:db8::ff00:42:8329'],
    ['does not compress a single zero group', '20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['compresses the first run when two runs tie', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['compresses the longer run when it comes second', '00010000000000020000000000000003', '1:0:0:2::3'],
    ['compresses a leading run', '00000000000000000000000000000001', '::1'],
    ['compresses a trailing run', '00010000000000000000000000000000', '1::'],
    ['compresses all-zero to ::', '00000000000000000000000000000000', '::'],
    ['compresses the first of two equal trailing-half runs', 'fe800000000000000001000000000000', 'fe80::1:0:0:0'],
    ['writes no :: when there is no zero group', '00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
    ['writes an IPv4-mapped address in hex groups', '00000000000000000000ffff7f000001', '::ffff:7f00:1'],
  ])('%s (RFC 5952) when given %s', (_label, bytes, text) => {
    expect(bytesToIp(Buffer.from(bytes, 'hex'))).toBe(text);
  });

  it('returns a non-address marker when given a length that is neither 4 nor 16', () => {
    const text = bytesToIp(Buffer.from('7f0000', 'hex'));
    expect(text).toBe('invalid:7f0000');
    // The marker parses as no address, so it can never equal a server name's address.
    expect(ipToBytes(text)).toBeUndefined();
    expect(bytesToIp(new Uint8Array(0))).toBe('invalid:');
  });

  it('accepts a Uint8Array as well as a Buffer', () => {
    expect(bytesToIp(new Uint8Array([10, 0, 0, 1]))).toBe('10.0.0.1');
  });
});

describe('ipToBytes and bytesToIp', () => {
  it('round-trips random 4- and 16-byte addresses to the same bytes', () => {
    const random = seeded(7);
    for (let i = 0; i < 1000; i++) {
      const length = i % 2 === 0 ? 4 : 16;
      const bytes = Buffer.alloc(length);
      for (let j = 0; j < length; j++) {
        // Bias towards zero bytes so IPv6 zero runs (and ::) are common.
        bytes[j] = random() < 0.4 ? 0 : Math.floor(random() * 256);
      }
      const text = bytesToIp(bytes);
      expect(length === 4 ? isIPv4(text) : isIPv6(text)).toBe(true);
      expect(hex(ipToBytes(text))).toBe(bytes.toString('hex'));
    }
  });

  it.each<[string, string]>([
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['::1.2.3.4', '::102:304'],
    ['127.0.0.1', '127.0.0.1'],
  ])('canonicalises %s to %s', (input, canonical) => {
    const bytes = ipToBytes(input);
    expect(bytes).toBeDefined();
    expect(bytesToIp(bytes ?? Buffer.alloc(0))).toBe(canonical);
  });
});

describe('zone IDs', () => {
  it.each(['fe80::1%eth0', 'fe80::1%eth0.5', 'fe80::1%a:b'])('gives no address bytes for %s', (text) => {
    expect(ipToBytes(text)).toBeUndefined();
  });
});
