# syntax=docker/dockerfile:1
#
# spotify-token-swap: the Node.js service (`token-swap serve`) in a small image.
#
# Built and run in CI (test/container.test.ts, with podman): exactly this file, only the base image
# swapped for a local stand-in of node:22-slim (scripts/container/base-image.sh), since the CI machine
# reaches no container registry. Build it with: docker build -t spotify-token-swap .
#
# node:22-slim: Node 20 left LTS in April 2026 and gets no more security fixes; 22 is LTS and
# satisfies "engines": ">=20.12". Slim (Debian, glibc) rather than Alpine (musl): nothing to
# compile, and no libc surprises. It has no curl, so the HEALTHCHECK uses node itself.
ARG NODE_IMAGE=node:22-slim

FROM ${NODE_IMAGE} AS build
# Only what `npm run build` needs: tsc, esbuild and Node's types (scripts/build-tools, pinned to the
# root lockfile's versions), one folder up in /build/node_modules, where module resolution and
# `npm run` find them from /build/app; and the production dependencies, for their types. No linter,
# test runner, browser driver or runtime binaries: those are the development install's.
WORKDIR /build
COPY scripts/build-tools/package.json scripts/build-tools/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
WORKDIR /build/app
# Dependencies first, so that these layers are cached until a lockfile changes. --ignore-scripts
# skips `prepare` (which builds), since the sources are not copied yet; --no-workspaces leaves out
# the client kit's package (packages/client), which the image does not serve.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-workspaces --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build-demo.mjs scripts/build-cli.mjs ./scripts/
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# Production dependencies only; no install scripts run (none is needed, and `prepare` would build).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-workspaces --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY --from=build /build/app/dist ./dist
# The image's `node` user (uid 1000). The service writes nothing to disk.
USER node
EXPOSE 3000
# Liveness: GET /healthz on the port the service listens on. Not /readyz: a Redis outage or an open
# circuit breaker makes the service not ready, but restarting it would not help.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# V8 sized for a small service: a young generation of 2 x 4 MB instead of 2 x 16 MB, and an old
# generation capped at 1 GB (50 times what the service keeps alive), which also makes V8 collect it
# before it doubles: under load the process stays near 80 MB instead of 120-130 MB, for 12-14% more
# CPU per request. No memory reducer: it drops the optimized code in an idle pause, and the next burst
# pays for compiling it again (docs/benchmarks.md, "The memory reducer"). Same flags as `npm start`.
CMD ["node", "--max-semi-space-size=4", "--max-old-space-size=1024", "--no-memory-reducer", "bin/token-swap.js", "serve"]
