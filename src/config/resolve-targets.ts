/**
 * The checks a schema cannot express (host syntax, timeout within interval, unique names,
 * readable CA bundles) and the merge of defaults into each target. Works on whatever parts of
 * the file passed the schema, so one load reports as many problems as it can.
 */
import { resolve } from 'node:path';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { CaFileResult } from './ca-file';
import { BUILT_IN_DEFAULTS, DefaultsSchema, ProbeSchema, TargetSchema } from './config-schema';
import type { ProbeConfig, TargetConfig, TargetSettings } from './config-types';
import type { VerifyPolicy } from '../pki/path-checks';
import { STARTTLS_DEFAULT_PORTS } from '../probing/starttls/upgrade';
import { readTlsSettings, type ReadClientCertificate, type TlsSettings } from './tls-config';
import { readRoute, type RouteSettings } from './route-config';
import type { ChainExpectations } from '../pki/expectations';
import type { CrlMode } from '../pki/crl';
import type { OcspMode } from '../pki/ocsp';
import { expectsNothing, parseList, readExpectations } from './expectations-config';
import { parseAddressRange, parseAllowPattern } from './probe-config';
import { formatDuration, parseDuration } from './duration';
import { defaultTargetName, parseHost } from './host';
import { durationMessage } from './schema-findings';
import { formatKey, type Finding, type PathSegment } from './yaml-locator';

export interface ResolveContext {
  /** Relative ca_file paths are resolved against this, as Prometheus does. */
  readonly configDir: string;
  readonly readCaFile: (path: string) => Promise<CaFileResult>;
  readonly readClientCertificate: ReadClientCertificate;
  readonly lineOf: (path: readonly PathSegment[]) => number;
}

/** A value and where it came from, so a conflict can name the key that has to change. */
interface Setting<T> {
  readonly value: T;
  /** undefined when set on the target itself. */
  readonly source: string | undefined;
}

interface CaBundle {
  readonly path: string;
  /** undefined when the bundle is broken; that was reported where it was named. */
  readonly certificates: readonly Buffer[] | undefined;
}

export interface Inherited {
  readonly interval: Setting<number> | undefined;
  readonly timeout: Setting<number> | undefined;
  readonly ca: CaBundle | undefined;
  readonly policy: VerifyPolicy;
  readonly tls: TlsSettings;
  readonly route: RouteSettings;
  readonly expectations: ChainExpectations;
  readonly ocsp: OcspMode | undefined;
  readonly crl: CrlMode | undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value when it satisfies schema, typed by it; undefined when absent or rejected (and reported) by the schema. */
export function checked<T extends TSchema>(schema: T, value: unknown): Static<T> | undefined {
  return value !== undefined && Value.Check(schema, value) ? value : undefined;
}

const EMPTY: readonly Buffer[] = Object.freeze([]);

function builtIn(text: string): Setting<number> {
  const value = parseDuration(text);
  if (value === undefined) throw new Error(`built-in duration ${text} does not parse`);
  return { value, source: 'built-in default' };
}

function sourceNote(setting: Setting<number>): string {
  return setting.source === undefined ? '' : ` (${setting.source})`;
}

/** What `defaults:` inherits: nothing set anywhere. */
const BUILT_IN: Inherited = {
  interval: builtIn(BUILT_IN_DEFAULTS.interval),
  timeout: builtIn(BUILT_IN_DEFAULTS.timeout),
  ca: undefined,
  policy: BUILT_IN_DEFAULTS.policy,
  tls: {},
  route: {},
  expectations: {},
  ocsp: undefined,
  crl: undefined,
};

/**
 * The settings part of a target, configured or ad hoc, from what it resolved to; undefined when
 * one of them could not be known (a problem that was reported where it was set).
 */
function settingsOf(resolved: Inherited): TargetSettings | undefined {
  const { interval, timeout, ca, expectations, ocsp, crl } = resolved;
  if (interval === undefined || timeout === undefined || (ca !== undefined && ca.certificates === undefined)) return undefined;
  return {
    intervalMs: interval.value,
    timeoutMs: timeout.value,
    ...(ca === undefined ? {} : { caFile: ca.path }),
    caCertificates: ca?.certificates ?? EMPTY,
    policy: resolved.policy,
    ...(expectsNothing(expectations) ? {} : { expectations }),
    ...(ocsp === undefined ? {} : { ocsp }),
    ...(crl === undefined ? {} : { crl }),
    ...resolved.tls,
    ...resolved.route,
  };
}

/** An ad-hoc /probe target: its host, port and server name, and the settings of `probe:`. */
export function adHocTarget(settings: TargetSettings, host: string, port: number, ipv6: boolean, serverName = host): TargetConfig {
  return Object.freeze({ name: defaultTargetName(host, port, ipv6), host, port, serverName, line: 0, ...settings });
}

export class TargetResolver {
  readonly findings: Finding[] = [];
  private readonly names = new Map<string, number>();

  constructor(private readonly context: ResolveContext) {}

  /**
   * What targets inherit from the section at `section` (`defaults`, `probe.defaults`), over
   * `base`. A setting the section got wrong (already reported) comes back undefined, so targets
   * relying on it skip the checks that need it instead of guessing.
   */
  async defaults(raw: unknown, section: readonly PathSegment[] = ['defaults'], base: Inherited = BUILT_IN): Promise<Inherited> {
    const given = isRecord(raw) ? raw : {};
    const props = DefaultsSchema.properties;
    const at = (key: string): PathSegment[] => [...section, key];
    const report = (path: readonly PathSegment[], message: string): void => { this.report(path, message); };
    const from = (setting: Setting<number> | undefined, key: string): Setting<number> | undefined =>
      setting && { value: setting.value, source: setting.source ?? `from ${formatKey(at(key))}` };
    const caFile = checked(props.ca_file, given.ca_file);
    return {
      interval: from(this.setting(given.interval, props.interval, at('interval'), base.interval), 'interval'),
      timeout: from(this.setting(given.timeout, props.timeout, at('timeout'), base.timeout), 'timeout'),
      ca: caFile === undefined ? base.ca : await this.caBundle(caFile, at('ca_file')),
      policy: checked(props.policy, given.policy) ?? base.policy,
      tls: await readTlsSettings(given, at, base.tls, report, this.context),
      route: readRoute(given, at, base.route, report),
      expectations: readExpectations(given, at, base.expectations, report),
      ocsp: checked(props.ocsp, given.ocsp) ?? base.ocsp,
      crl: checked(props.crl, given.crl) ?? base.crl,
    };
  }

  /** The `probe:` section, or undefined when it is absent or anything in it was reported. */
  async probe(raw: unknown, inherited: Inherited): Promise<ProbeConfig | undefined> {
    if (!isRecord(raw)) return undefined;
    const before = this.findings.length;
    const report = (path: readonly PathSegment[], message: string): void => { this.report(path, message); };
    const allow = parseList(raw.allow, ['probe', 'allow'], report, parseAllowPattern) ?? [];
    const deny = parseList(raw.deny, ['probe', 'deny'], report, parseAddressRange) ?? [];
    const settings = settingsOf(await this.defaults(raw.defaults, ['probe', 'defaults'], inherited));
    // Both fetch a URL the probed certificate names: for a server probe.allow admits but nobody
    // vetted, that is a relay to wherever its certificate points.
    for (const [key, value, instead] of [['ocsp', settings?.ocsp, 'stapled or none'], ['crl', settings?.crl, 'none']] as const) {
      if (value !== 'responder' && value !== 'distribution_point') continue;
      const here = isRecord(raw.defaults) && raw.defaults[key] !== undefined;
      this.report(here ? ['probe', 'defaults', key] : ['probe'], `${key}: ${value}${here ? '' : ` (from defaults.${key})`} would make /probe fetch the URL a probed server's certificate names, a server probe.allow admits but nobody vetted: set probe.defaults.${key} to ${instead}`);
    }
    if (!Value.Check(ProbeSchema, raw) || this.findings.length > before || settings === undefined) return undefined;
    return Object.freeze({ allow, deny, settings: Object.freeze(settings) });
  }

  /**
   * The finished target, or undefined when anything about it was reported. Each field that
   * passed the schema is checked even when a sibling did not, so one run shows every problem.
   */
  async target(raw: unknown, index: number, inherited: Inherited): Promise<TargetConfig | undefined> {
    if (!isRecord(raw)) return undefined;
    const props = TargetSchema.properties;
    const at = (key?: string): PathSegment[] => (key === undefined ? ['targets', index] : ['targets', index, key]);
    const before = this.findings.length;

    const hostText = checked(props.host, raw.host);
    const host = hostText === undefined ? undefined : parseHost(hostText);
    if (host !== undefined && 'error' in host) this.report(at('host'), host.error);
    const parsedHost = host !== undefined && 'host' in host ? host : undefined;
    const starttls = checked(props.starttls, raw.starttls);
    const defaultPort = starttls === undefined ? BUILT_IN_DEFAULTS.port : STARTTLS_DEFAULT_PORTS[starttls];
    const port = raw.port === undefined ? defaultPort : checked(props.port, raw.port);

    const interval = this.setting(raw.interval, props.interval, at('interval'), inherited.interval);
    const timeout = this.setting(raw.timeout, props.timeout, at('timeout'), inherited.timeout);
    if (interval !== undefined && timeout !== undefined && timeout.value > interval.value) {
      // Point at what this target set, since that is what makes it differ from the defaults.
      const culprit = timeout.source === undefined ? 'timeout' : interval.source === undefined ? 'interval' : undefined;
      this.report(
        at(culprit),
        `timeout ${formatDuration(timeout.value)}${sourceNote(timeout)} must not exceed interval ${formatDuration(interval.value)}${sourceNote(interval)}`,
      );
    }

    const explicitName = checked(props.name, raw.name);
    const derivable = raw.name === undefined && parsedHost !== undefined && port !== undefined;
    const name = explicitName ?? (derivable ? defaultTargetName(parsedHost.host, port, parsedHost.ipv6) : undefined);
    if (name !== undefined) this.claimName(name, explicitName === undefined ? at() : at('name'));

    const caFile = checked(props.ca_file, raw.ca_file);
    const ca = raw.ca_file === undefined ? inherited.ca : caFile === undefined ? undefined : await this.caBundle(caFile, at('ca_file'));
    const expectations = readExpectations(raw, at, inherited.expectations, (path, message) => { this.report(path, message); });
    const ocsp = checked(props.ocsp, raw.ocsp) ?? inherited.ocsp;
    const crl = checked(props.crl, raw.crl) ?? inherited.crl;

    const tls = await readTlsSettings(raw, at, inherited.tls, (path, message) => { this.report(path, message); }, this.context);
    const route = readRoute(raw, at, inherited.route, (path, message) => { this.report(path, message); });

    // Build only a target that is wholly valid; a partial one would never be returned anyway,
    // because any finding makes loadConfig throw.
    if (!Value.Check(TargetSchema, raw) || this.findings.length > before) return undefined;
    const settings = settingsOf({ interval, timeout, ca, policy: raw.policy ?? inherited.policy, tls, route, expectations, ocsp, crl });
    if (parsedHost === undefined || port === undefined || name === undefined || settings === undefined) return undefined;
    return Object.freeze({
      name,
      host: parsedHost.host,
      port,
      serverName: raw.server_name ?? parsedHost.host,
      ...(starttls === undefined ? {} : { starttls }),
      line: this.context.lineOf(at()),
      ...settings,
    });
  }

  /** A duration set here (source undefined), else the fallback; undefined when it cannot be known. */
  setting(
    raw: unknown,
    schema: TSchema,
    path: readonly PathSegment[],
    fallback: string | Setting<number> | undefined,
  ): Setting<number> | undefined {
    if (raw === undefined) return typeof fallback === 'string' ? builtIn(fallback) : fallback;
    // A value the schema rejected has been reported already.
    if (!Value.Check(schema, raw) || typeof raw !== 'string') return undefined;
    return this.duration(raw, path);
  }

  report(path: readonly PathSegment[], message: string): void {
    this.findings.push({ path, at: 'value', message });
  }

  /** The schema pattern already rejects most bad durations; this catches amounts too large to be exact. */
  private duration(text: string, path: readonly PathSegment[]): Setting<number> | undefined {
    const value = parseDuration(text);
    if (value === undefined || value === 0) {
      this.report(path, durationMessage(text));
      return undefined;
    }
    return { value, source: undefined };
  }

  /**
   * Names become the `target` label (a `files:` entry's, the `source` label): two with one name
   * would overwrite each other's series. Targets and entries have names of their own.
   */
  claimName(name: string, path: readonly PathSegment[], kind: 'target' | 'files entry' = 'target'): void {
    const key = `${kind}\u0000${name}`;
    const first = this.names.get(key);
    if (first === undefined) {
      this.names.set(key, this.context.lineOf(path));
      return;
    }
    this.report(path, `duplicate ${kind} name ${JSON.stringify(name)} (first used on line ${first})`);
  }

  async caBundle(file: string, path: readonly PathSegment[]): Promise<CaBundle> {
    const absolute = resolve(this.context.configDir, file);
    const result = await this.context.readCaFile(absolute);
    if ('error' in result) {
      this.report(path, result.error);
      return { path: absolute, certificates: undefined };
    }
    return { path: absolute, certificates: result.certificates };
  }
}
