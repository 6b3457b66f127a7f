import type { Clock } from '../clock';
import { createEveryAddressProber } from './every-address';
import type { Prober } from './prober';
import type { Resolver } from './resolver';
import { createTlsProber } from './tls-prober';

/**
 * The prober the daemon uses: picks the probe kind a request asks for, as blackbox_exporter's
 * prober map does by module. One TLS probe of the first address, or one per address of the name.
 */
export function createProber(deps: { readonly resolver: Resolver; readonly clock: Clock }): Prober {
  const single = createTlsProber(deps);
  const everyAddress = createEveryAddressProber({ ...deps, inner: single });
  return (request, signal) => (request.everyAddress === true ? everyAddress : single)(request, signal);
}
