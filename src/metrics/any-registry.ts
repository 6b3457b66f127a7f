import type { OpenMetricsContentType, Registry } from 'prom-client';

/** A registry of either exposition format; prom-client's types bind each registry to one. */
export type AnyRegistry = Registry | Registry<OpenMetricsContentType>;
