# autostash: webhook, controller and backup executor in one image. The Deployment runs
# `serve`; backup, restore and maintenance Jobs run `autostash exec …` from the same image.
#
# Build (from the repository root; no Docker engine runs on the development machines):
#   docker build -t ghcr.io/autostash/autostash:v0.1.0 .
# The tag must match the chart's image.tag (or pass --set image.tag=… / image.repository=…).

# ---- build: compile TypeScript, then keep only the production dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && chmod 0755 dist/cli.js \
 && npm prune --omit=dev

# ---- runtime: Node 20, restic and CA certificates from Debian's packages, nothing else ----
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends restic ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Jobs call the program by name (`command: [autostash]`), so it must be on PATH.
RUN ln -s /app/dist/cli.js /usr/local/bin/autostash
# nobody: the Deployment and the Jobs run as a non-root user; /tmp is the writable home
# (restic's cache, Node's temp files) on a read-only root filesystem.
USER 65534:65534
ENV NODE_ENV=production HOME=/tmp
EXPOSE 8443
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["serve"]
