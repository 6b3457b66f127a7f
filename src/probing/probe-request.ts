import type { TargetConfig } from '../config/config-types';
import type { ProbeRequest } from './prober';

/** What the prober needs of a configured target: where to connect and how to get TLS there. */
export function probeRequestFor(target: TargetConfig): ProbeRequest {
  return {
    host: target.host,
    port: target.port,
    serverName: target.serverName,
    ...(target.starttls === undefined ? {} : { starttls: target.starttls }),
  };
}

/** The probe settings of a target as one string: when it changes on reload, old results no longer describe the target. */
export function probeIdentity(target: TargetConfig): string {
  return JSON.stringify(probeRequestFor(target));
}
