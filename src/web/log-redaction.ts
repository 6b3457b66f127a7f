import type { LoggerOptions } from 'pino';

/**
 * pino's redact paths for anything that could carry a credential, wherever a request, its
 * headers or a config object ends up in a log line. Request logging is off and fastify's request
 * serializer leaves headers out, and key and hashes are Secret objects that print as a
 * placeholder; this is the net under those.
 */
export const LOG_REDACTION: NonNullable<LoggerOptions['redact']> = {
  paths: [
    'authorization',
    'headers.authorization',
    'headers["proxy-authorization"]',
    'headers.cookie',
    '*.authorization',
    '*.headers.authorization',
    '*.headers["proxy-authorization"]',
    '*.headers.cookie',
    'req.raw.headers.authorization',
    'password',
    '*.password',
    'basic_auth_users',
    '*.basic_auth_users',
    // Not a bare `key`: config issues name the offending config key in a field of that name.
    'tls_server_config.key',
    '*.tls_server_config.key',
  ],
  censor: '[redacted]',
};
