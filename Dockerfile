# syntax=docker/dockerfile:1
# One image for both apps (and the migration job): they share every dependency and one build,
# so there is one artifact to version, scan and promote. The command picks the app.
# Node 24 is the Active LTS line (Node 20 reached end of life in April 2026). CI's machine has Node
# 20; `scripts/with-node.sh 24 npm test` runs the whole suite, with the apps, on the image's Node.

FROM node:24-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
# V8's young generation grows to 3 × 16 MiB semi-spaces under allocation-heavy load; capped at 4 MiB
# the apps stay ~70 MB smaller under load at no measured throughput cost (bench/NOTES.md). Node does
# not read the container's memory limit (256Mi in deploy/k8s): without a cap V8 lets the old space
# grow to ~2 GB of mostly garbage before collecting hard, and the pod is OOM-killed first. 128 MiB
# of old space (live data is ~60 MB) + ~80 MB of code and native memory fits the limit, and V8
# then collects earlier: RSS under load stays ≤ ~180 MB instead of 250 MB, throughput unchanged
# (Node 20; Node 24 adds ~15-20 MB of its own: auth-core peaks at 190-200 MB in password logins).
# The bench, `npm run up` and the e2e stack read this line, so everything runs what the image runs.
ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=128"
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies are installed fresh rather than pruned from the build stage so no dev tooling
# (compilers, test runners) ships; cache is dropped to keep the layer small.
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# Code stays root-owned, so the non-root process cannot modify it.
USER node
EXPOSE 3000 3001
# gateway by default; compose/k8s override with
#   node dist/apps/auth-core/apps/auth-core/src/main.js
#   node dist/apps/auth-core/apps/auth-core/src/database/migrate.js
CMD ["node", "dist/apps/gateway/apps/gateway/src/main.js"]
