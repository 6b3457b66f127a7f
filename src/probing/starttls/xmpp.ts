import { converse, quote, type Conversation, type Taken } from '../conversation';
import { upgradeFailure, type Upgrade } from './upgrade';

const TLS_NAMESPACE = 'urn:ietf:params:xml:ns:xmpp-tls';

/** The end of the stream features, namespace prefix or not: </stream:features> or an empty <features/>. */
const FEATURES_END = /<\/(?:[\w.-]+:)?features\s*>|<(?:[\w.-]+:)?features\b[^>]*\/>/;
/** The stream ended or failed before we got what we asked for. */
const STREAM_FAILED = /<(?:[\w.-]+:)?error\b|<\/(?:[\w.-]+:)?stream\s*>/;
const ANSWER = /<(proceed|failure)\b[^>]*?(?:\/>|>[\s\S]*?<\/\1\s*>)/;

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
}

/** Everything up to and including the first match of `pattern`, as text; a stream error ends the wait. */
function upTo(c: Conversation, pattern: RegExp, what: string): (buffered: Buffer) => Taken<string> | undefined {
  return (buffered) => {
    const text = buffered.toString('utf8');
    const match = pattern.exec(text);
    if (match === null) {
      const failed = STREAM_FAILED.exec(text);
      if (failed !== null) throw c.fail(`the server ended the stream instead of sending ${what}: ${quote(text.slice(failed.index))}`);
      return undefined;
    }
    const end = match.index + match[0].length;
    return { value: text.slice(0, end), length: Buffer.byteLength(text.slice(0, end)) };
  };
}

/**
 * RFC 6120 §5: a client stream to the server name as the XMPP domain, stream features offering
 * <starttls/>, our <starttls/>, answered <proceed/>. Client-to-server streams (port 5222).
 */
export const xmpp: Upgrade = (socket, serverName, signal) => converse(socket, signal, upgradeFailure('xmpp'), async (c) => {
  c.send(
    `<?xml version='1.0'?><stream:stream to='${escapeAttribute(serverName)}' version='1.0' xml:lang='en' ` +
      `xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
  );
  const features = await c.read('the stream features', upTo(c, FEATURES_END, 'the stream features'));
  if (!features.includes(TLS_NAMESPACE)) throw c.fail('the server does not offer STARTTLS in its stream features');
  c.send(`<starttls xmlns='${TLS_NAMESPACE}'/>`);
  const answer = await c.read('the STARTTLS answer', upTo(c, ANSWER, 'the STARTTLS answer'));
  if (ANSWER.exec(answer)?.[1] !== 'proceed') throw c.fail('the server answered <failure/> to <starttls/>');
});
