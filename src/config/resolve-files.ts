/**
 * `files:` entries: the checks a schema cannot express (glob syntax, unique names, a readable
 * CA bundle and password file) and what an entry inherits from `defaults:` (ca_file, policy).
 * Findings go to the target resolver's list, so one load reports every problem in the file.
 */
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { patternProblem } from '../files/glob';
import { Secret } from '../web/secret';
import { errorCode, type ReadFile } from './ca-file';
import { FILES_DEFAULT_INTERVAL, FileSourceSchema } from './config-schema';
import type { FileSourceConfig } from './config-types';
import { checked, isRecord, type Inherited, type TargetResolver } from './resolve-targets';
import type { PathSegment } from './yaml-locator';

export interface FilesContext {
  /** Relative paths and globs are resolved against this, like ca_file. */
  readonly configDir: string;
  readonly readFile: ReadFile;
  readonly lineOf: (path: readonly PathSegment[]) => number;
}

export class FileSourceResolver {
  constructor(private readonly targets: TargetResolver, private readonly context: FilesContext) {}

  /** The finished entry, or undefined when anything about it was reported. */
  async source(raw: unknown, index: number, inherited: Inherited): Promise<FileSourceConfig | undefined> {
    if (!isRecord(raw)) return undefined;
    const props = FileSourceSchema.properties;
    const at = (...keys: PathSegment[]): PathSegment[] => ['files', index, ...keys];
    const before = this.targets.findings.length;

    const paths = checked(props.paths, raw.paths);
    paths?.forEach((path, i) => {
      const problem = patternProblem(path);
      if (problem !== undefined) this.targets.report(at('paths', i), problem);
    });
    const name = checked(props.name, raw.name) ?? (raw.name === undefined ? paths?.[0] : undefined);
    if (name !== undefined) this.targets.claimName(name, raw.name === undefined ? at('paths', 0) : at('name'), 'files entry');
    const interval = this.targets.setting(raw.interval, props.interval, at('interval'), FILES_DEFAULT_INTERVAL);
    const caFile = checked(props.ca_file, raw.ca_file);
    const ca = raw.ca_file === undefined ? inherited.ca : caFile === undefined ? undefined : await this.targets.caBundle(caFile, at('ca_file'));
    const passwordFile = checked(props.pkcs12_password_file, raw.pkcs12_password_file);
    const passwordPath = passwordFile === undefined ? undefined : resolve(this.context.configDir, passwordFile);
    const password = passwordPath === undefined ? undefined : await this.password(passwordPath, at('pkcs12_password_file'));

    if (!Value.Check(FileSourceSchema, raw) || this.targets.findings.length > before) return undefined;
    if (paths === undefined || name === undefined || interval === undefined) return undefined;
    if (ca !== undefined && ca.certificates === undefined) return undefined;
    return Object.freeze({
      name,
      patterns: Object.freeze(paths.map((path) => resolve(this.context.configDir, path))),
      intervalMs: interval.value,
      ...(ca === undefined ? {} : { caFile: ca.path }),
      caCertificates: ca?.certificates ?? Object.freeze([]),
      policy: raw.policy ?? inherited.policy,
      ...(raw.server_name === undefined ? {} : { serverName: raw.server_name }),
      ...(passwordPath === undefined || password === undefined ? {} : { pkcs12PasswordFile: passwordPath, pkcs12Password: password }),
      line: this.context.lineOf(at()),
    });
  }

  /** The password, without the one trailing newline `echo` and editors add. */
  private async password(file: string, path: readonly PathSegment[]): Promise<Secret | undefined> {
    try {
      return new Secret((await this.context.readFile(file)).replace(/\r?\n$/, ''));
    } catch (error) {
      this.targets.report(path, `cannot read "${file}": ${errorCode(error)}`);
      return undefined;
    }
  }
}
