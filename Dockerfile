# jit-access-bot: multi-stage build on Node.js 24 (LTS; Node 20 reached end of life in April 2026),
# runs as the unprivileged `node` user.
#   docker build -t jit-access-bot .
#   docker run --env-file .env -v ./access.yaml:/config/access.yaml:ro -p 3000:3000 jit-access-bot
# See docs/deploy.md. The image needs MONGODB_URI (a replica set): it never runs the embedded MongoDB.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no `prepare` build yet (no sources) and no mongod download (never used here).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim AS runtime
# NODE_OPTIONS: 32 MB young-generation semi-spaces (V8's default is 16 MB): each request's short-lived
# objects die before a scavenge copies them; about 4-6 % less CPU a flow for about 25 MB more memory
# (docs/benchmarks.md). `npm start` and the benchmarks run the app with the same option.
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=32 \
    PORT=3000 \
    ACCESS_CONFIG=/config/access.yaml \
    MONGOMS_DISABLE_POSTINSTALL=1
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY access.example.yaml ./access.example.yaml
COPY manifests ./manifests
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM reaches node directly (exec form): it stops taking requests, drains jobs and exits.
# `node dist/main.js` is the same program as `jit-access-bot start` (`node dist/cli.js start`).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
