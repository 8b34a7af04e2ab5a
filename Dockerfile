# autostash: webhook, controller and backup executor in one image.
# Build: docker build -t autostash .   (not buildable on the development machines: no Docker engine)
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends restic ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY charts/autostash/crds ./crds
USER 65534:65534
ENV NODE_ENV=production
EXPOSE 8443
ENTRYPOINT ["node", "/app/dist/cli.js"]
CMD ["serve"]
