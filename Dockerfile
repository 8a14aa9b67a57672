# Ferry container image. Not built in this project's CI (no Docker engine there); reviewed by hand.
# Build:  docker build -t ferry .
# Run:    docker run -p 8080:8080 -v $PWD/my.config.ts:/config/routes.config.ts:ro ferry
# A mounted config must listen on 0.0.0.0 to be reachable from outside the container.

FROM denoland/deno:2.9.6 AS build
WORKDIR /app
COPY deno.json deno.lock ./
COPY mod.ts routes.config.ts ./
COPY src ./src
# Resolve and cache every dependency at build time, pinned by deno.lock.
RUN deno cache --frozen mod.ts routes.config.ts

FROM denoland/deno:2.9.6
WORKDIR /app
COPY --from=build --chown=deno:deno /deno-dir /deno-dir
COPY --from=build --chown=deno:deno /app /app
USER deno
EXPOSE 8080 9901
ENV FERRY_CONFIG=/app/routes.config.ts
# Narrow permissions: network, read only the app and the mounted config, named env vars only.
ENTRYPOINT ["deno", "run", "--cached-only", "--frozen", "--allow-net", "--allow-read=/app,/config", \
  "--allow-env=FERRY_CONFIG,FERRY_LOG,OTEL_*", "mod.ts"]
CMD ["start"]
