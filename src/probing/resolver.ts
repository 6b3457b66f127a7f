import { lookup } from 'node:dns/promises';

/** Name to addresses; injected so tests can answer for names without a DNS server. */
export type Resolver = (host: string) => Promise<readonly string[]>;

/** The system resolver (getaddrinfo), so /etc/hosts and the host's DNS setup apply as for any client. */
export const systemResolver: Resolver = async (host) => {
  const answers = await lookup(host, { all: true });
  return answers.map((a) => a.address);
};
