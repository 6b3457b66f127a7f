# syntax=docker/dockerfile:1
# certexp: docker build -t certexp . && docker run -p 9745:9745 certexp
# A test (test/deploy/dockerfile.test.ts) repeats these steps outside Docker and scrapes the result.

# Build: install everything from the lock file, compile, then drop the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Run: the compiled output and production dependencies only, owned by root and so read-only
# to the unprivileged user that runs them.
FROM node:20-bookworm-slim
LABEL org.opencontainers.image.title="certexp" \
      org.opencontainers.image.description="Prometheus exporter for TLS certificate expiry and verification" \
      org.opencontainers.image.licenses="Apache-2.0"
# The MALLOC_ settings and the node flags below keep memory down at many targets: as in package.json's start script.
ENV NODE_ENV=production MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
# The image's `node` user, by number: Kubernetes' runAsNonRoot can only check a numeric user.
USER 1000:1000
EXPOSE 9745
# Asks the daemon itself (Node's fetch): the slim image has no curl or wget. The port is the
# default one; change it here too if you change --web.listen-address.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9745/-/healthy').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "--heap-growing-percent=30", "dist/main.js"]
CMD ["--config.file=config/certexp.yml"]
