import { ftp } from './ftp';
import { imap } from './imap';
import { ldap } from './ldap';
import { mysql } from './mysql';
import { pop3 } from './pop3';
import { postgres } from './postgres';
import { smtp } from './smtp';
import type { StarttlsProtocol, Upgrade } from './upgrade';
import { xmpp } from './xmpp';

/** Each STARTTLS protocol's upgrade, one module each (blackbox_exporter's prober map, one level down). */
export const UPGRADES: Readonly<Record<StarttlsProtocol, Upgrade>> = { smtp, imap, pop3, ftp, ldap, xmpp, postgres, mysql };
