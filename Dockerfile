# convsvc: build the TypeScript, then run it on a slim image with production dependencies only.
# test/process/dockerfile.test.ts follows these steps outside Docker, so a broken step shows in CI.

FROM node:26-bookworm-slim AS build
# The native GEMM's toolchain and OpenBLAS headers (node-gyp needs python3, make and a compiler).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make gcc g++ pkg-config libopenblas-dev \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json asconfig.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
COPY workers ./workers
COPY scripts ./scripts
COPY assembly ./assembly
COPY playground ./playground
COPY native ./native
# Builds the playground page (dist/public/playground), the WebAssembly GEMM (build/wasm), the
# native GEMM (build/native), the TypeScript (dist) and the CycloneDX SBOM of the production
# dependencies the runtime stage installs (dist/sbom.cdx.json, shipped with dist).
RUN npm run build

FROM node:26-bookworm-slim AS runtime
# OpenBLAS's runtime library only: the native GEMM opens it and runs it on one thread per worker.
RUN apt-get update && apt-get install -y --no-install-recommends libopenblas0-pthread \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORT=8080 \
    GRPC_PORT=8081 \
    HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/build ./build
COPY openapi ./openapi
# The gRPC services' definitions, read when the gRPC port is bound (src/grpc/proto.ts).
COPY proto ./proto
# The image's unprivileged user; the service needs no write access.
USER node
# HTTP (REST, /v2) and gRPC (the Open Inference Protocol's gRPC half).
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, no shell or npm in between: SIGTERM reaches the server, which drains and exits 0.
CMD ["node", "--initial-heap-size=64", "--no-allocation-site-pretenuring", "dist/src/server.js"]
