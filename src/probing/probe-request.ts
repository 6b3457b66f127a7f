import type { TargetConfig } from '../config/config-types';
import type { ProbeRequest } from './prober';

/** What the prober needs of a configured target: where to connect and how to get TLS there. */
export function probeRequestFor(target: TargetConfig): ProbeRequest {
  const { address, proxy, everyAddress, starttls, minVersion, maxVersion, clientCertificate, checkVersions } = target;
  return {
    host: target.host,
    port: target.port,
    serverName: target.serverName,
    ...(address === undefined ? {} : { address }),
    ...(proxy === undefined ? {} : { proxy }),
    ...(everyAddress === true ? { everyAddress } : {}),
    ...(starttls === undefined ? {} : { starttls }),
    ...(minVersion === undefined ? {} : { minVersion }),
    ...(maxVersion === undefined ? {} : { maxVersion }),
    ...(clientCertificate === undefined ? {} : { clientCertificate }),
    ...(checkVersions === undefined || checkVersions.length === 0 ? {} : { checkVersions }),
  };
}

/**
 * The probe settings of a target as one string: when it changes on reload, old results no
 * longer describe the target. Secrets (the client key, the proxy's credentials) serialise as a
 * placeholder; the client certificate, which changes with its key, is in.
 */
export function probeIdentity(target: TargetConfig): string {
  return JSON.stringify(probeRequestFor(target));
}
