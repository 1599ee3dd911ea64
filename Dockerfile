# One image for every service; the command chooses which (README, "Deploy"):
#   gateway            node server/dist/bin/gateway.js            (the default)
#   one subgraph       node server/dist/bin/subgraph.js <identity|scheduling|messaging|pharmacy|clinical-records>
#   migrations job     node server/dist/bin/migrate.js [subgraph...]
#   service client     node server/dist/bin/create-service-client.js <client-id> <scope...>
# Settings come from the environment; every service listens on PORT (set it per service).

# ---- build: every workspace to JavaScript (npm run build: tsc project references into each dist/)
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY subgraphs/kit/package.json subgraphs/kit/
COPY subgraphs/demo/package.json subgraphs/demo/
COPY subgraphs/identity/package.json subgraphs/identity/
COPY subgraphs/scheduling/package.json subgraphs/scheduling/
COPY subgraphs/messaging/package.json subgraphs/messaging/
COPY subgraphs/pharmacy/package.json subgraphs/pharmacy/
COPY subgraphs/clinical-records/package.json subgraphs/clinical-records/
COPY gateway/package.json gateway/
COPY server/package.json server/
COPY test/package.json test/
COPY web/package.json web/
RUN npm ci --no-audit --no-fund
COPY tsconfig.base.json tsconfig.build.json ./
COPY subgraphs subgraphs
COPY gateway gateway
COPY server server
# The patient web app, built to static files that the gateway serves at /app/.
COPY web web
RUN npm run build

# ---- runtime: production dependencies only, the built JavaScript, the SDL and schema/
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    APOLLO_TELEMETRY_DISABLED=1
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/subgraphs/kit/package.json subgraphs/kit/
COPY --from=build /app/subgraphs/demo/package.json subgraphs/demo/
COPY --from=build /app/subgraphs/identity/package.json subgraphs/identity/
COPY --from=build /app/subgraphs/scheduling/package.json subgraphs/scheduling/
COPY --from=build /app/subgraphs/messaging/package.json subgraphs/messaging/
COPY --from=build /app/subgraphs/pharmacy/package.json subgraphs/pharmacy/
COPY --from=build /app/subgraphs/clinical-records/package.json subgraphs/clinical-records/
COPY --from=build /app/gateway/package.json gateway/
COPY --from=build /app/server/package.json server/
COPY --from=build /app/test/package.json test/
COPY --from=build /app/web/package.json web/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/subgraphs/kit/dist subgraphs/kit/dist
COPY --from=build /app/subgraphs/demo/dist subgraphs/demo/dist
COPY --from=build /app/subgraphs/identity/dist subgraphs/identity/dist
COPY --from=build /app/subgraphs/identity/schema.graphql subgraphs/identity/
COPY --from=build /app/subgraphs/scheduling/dist subgraphs/scheduling/dist
COPY --from=build /app/subgraphs/scheduling/schema.graphql subgraphs/scheduling/
COPY --from=build /app/subgraphs/messaging/dist subgraphs/messaging/dist
COPY --from=build /app/subgraphs/messaging/schema.graphql subgraphs/messaging/
COPY --from=build /app/subgraphs/pharmacy/dist subgraphs/pharmacy/dist
COPY --from=build /app/subgraphs/pharmacy/schema.graphql subgraphs/pharmacy/
COPY --from=build /app/subgraphs/clinical-records/dist subgraphs/clinical-records/dist
COPY --from=build /app/subgraphs/clinical-records/schema.graphql subgraphs/clinical-records/
COPY --from=build /app/gateway/dist gateway/dist
COPY --from=build /app/server/dist server/dist
COPY --from=build /app/web/dist web/dist
COPY schema/supergraph.graphql schema/
COPY schema/operations schema/operations
# The image's own unprivileged user (uid 1000); nothing under /app is writable by it.
USER node
EXPOSE 4000 4001 4002 4003 4004 4005
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node"]
CMD ["server/dist/bin/gateway.js"]
