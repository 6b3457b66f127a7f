import * as bcrypt from 'bcryptjs';
import { BasicAuthenticator, parseBasicAuthorization, type PasswordCompare } from '../../src/web/basic-auth';
import { Secret } from '../../src/web/secret';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** bcryptjs, with every call recorded: which hash was compared, in call order. */
function countingCompare(): { compare: PasswordCompare; hashes: string[] } {
  const hashes: string[] = [];
  return {
    hashes,
    compare: (password, hash) => {
      hashes.push(hash);
      return bcrypt.compare(password, hash);
    },
  };
}

let aliceHash: string;
let bobHash: string;

beforeAll(async () => {
  aliceHash = await bcrypt.hash('alice-pw', 4);
  bobHash = await bcrypt.hash('bob-pw', 5);
});

function users(): Map<string, Secret> {
  return new Map([['alice', new Secret(aliceHash)], ['bob', new Secret(bobHash)]]);
}

describe('parseBasicAuthorization', () => {
  it('splits user and password at the first colon when the password holds colons', () => {
    expect(parseBasicAuthorization(basic('alice', 'a:b:c'))).toEqual({ user: 'alice', password: 'a:b:c' });
  });

  it('accepts the scheme in any case when a client writes it differently', () => {
    expect(parseBasicAuthorization(`bAsIc ${Buffer.from('u:p').toString('base64')}`)).toEqual({ user: 'u', password: 'p' });
  });

  it('decodes UTF-8 when the password is not ASCII', () => {
    expect(parseBasicAuthorization(basic('zoë', 'pässwörd'))).toEqual({ user: 'zoë', password: 'pässwörd' });
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Bearer abc'],
    ['no credentials', 'Basic '],
    ['no colon', `Basic ${Buffer.from('alice').toString('base64')}`],
    ['not base64', 'Basic !!!'],
    ['invalid UTF-8', `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`],
  ])('returns nothing for %s', (_what, header) => {
    expect(parseBasicAuthorization(header)).toBeUndefined();
  });
});

describe('BasicAuthenticator', () => {
  it('lets a user in when the password matches the bcrypt hash', async () => {
    const auth = new BasicAuthenticator(users());
    expect(await auth.check(basic('alice', 'alice-pw'))).toBe('ok');
    expect(await auth.check(basic('bob', 'bob-pw'))).toBe('ok');
  });

  it('verifies a $2y$ hash made by another bcrypt implementation when htpasswd-style hashes are configured', async () => {
    // exporter-toolkit's decoy hash (web/handler.go), made with Go's bcrypt: "fakepassword" at cost 10.
    const auth = new BasicAuthenticator(new Map([['go', new Secret('$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi')]]));
    expect(await auth.check(basic('go', 'fakepassword'))).toBe('ok');
    expect(await auth.check(basic('go', 'fakepassword2'))).toBe('denied');
  });

  it('denies a wrong password, another user\'s password, no header and an unknown user', async () => {
    const auth = new BasicAuthenticator(users());
    expect(await auth.check(basic('alice', 'alice-pw '))).toBe('denied');
    expect(await auth.check(basic('alice', 'bob-pw'))).toBe('denied');
    expect(await auth.check(undefined)).toBe('denied');
    expect(await auth.check(basic('mallory', 'alice-pw'))).toBe('denied');
  });

  it('runs bcrypt once when the same user scrapes again with the same password', async () => {
    const { compare, hashes } = countingCompare();
    const auth = new BasicAuthenticator(users(), { compare });
    for (let i = 0; i < 5; i += 1) expect(await auth.check(basic('alice', 'alice-pw'))).toBe('ok');
    expect(hashes).toEqual([aliceHash]);
  });

  it('runs bcrypt every time when a password is wrong, so guesses stay slow', async () => {
    const { compare, hashes } = countingCompare();
    const auth = new BasicAuthenticator(users(), { compare });
    for (let i = 0; i < 3; i += 1) expect(await auth.check(basic('alice', 'guess'))).toBe('denied');
    expect(hashes).toHaveLength(3);
  });

  it('compares an unknown user against the costliest configured hash so timing does not reveal user names', async () => {
    const { compare, hashes } = countingCompare();
    const auth = new BasicAuthenticator(users(), { compare });
    expect(await auth.check(basic('mallory', 'bob-pw'))).toBe('denied');
    expect(await auth.check(basic('mallory', 'bob-pw'))).toBe('denied');
    // bob's hash has cost 5, alice's 4; and a matching password does not let an unknown user in.
    expect(hashes).toEqual([bobHash, bobHash]);
  });

  it('forgets the oldest login when more users log in than the cache holds', async () => {
    const { compare, hashes } = countingCompare();
    const auth = new BasicAuthenticator(users(), { compare, cacheSize: 1 });
    await auth.check(basic('alice', 'alice-pw'));
    await auth.check(basic('bob', 'bob-pw'));
    await auth.check(basic('bob', 'bob-pw'));
    await auth.check(basic('alice', 'alice-pw'));
    expect(hashes).toEqual([aliceHash, bobHash, aliceHash]);
  });

  it('runs compares one at a time and turns requests away when too many wait', async () => {
    let running = 0;
    let most = 0;
    const compare: PasswordCompare = async (password, hash) => {
      running += 1;
      most = Math.max(most, running);
      const result = await bcrypt.compare(password, hash);
      running -= 1;
      return result;
    };
    const auth = new BasicAuthenticator(users(), { compare, maxWaiting: 3 });
    const verdicts = await Promise.all([1, 2, 3, 4, 5].map((i) => auth.check(basic('alice', `guess-${i}`))));
    expect(verdicts).toEqual(['denied', 'denied', 'denied', 'busy', 'busy']);
    expect(most).toBe(1);
    expect(await auth.check(basic('alice', 'alice-pw'))).toBe('ok');
  });

  it('denies rather than crashes when the compare throws', async () => {
    const auth = new BasicAuthenticator(users(), { compare: () => Promise.reject(new Error('boom')) });
    expect(await auth.check(basic('alice', 'alice-pw'))).toBe('denied');
  });
});
