# syntax=docker/dockerfile:1
# Every Calc image, from one file. Build from the repository root; PROJECT (the app's folder) and APP (its assembly)
# say which app is built, the target which image it becomes:
#   docker build --build-arg PROJECT=gateway/Calc.Gateway        --build-arg APP=Calc.Gateway      --target gateway      -t calc/gateway .
#   docker build --build-arg PROJECT=cache/Calc.Cache            --build-arg APP=Calc.Cache        --target cache        -t calc/cache .
#   docker build --build-arg PROJECT=services/Calc.Calculations  --build-arg APP=Calc.Calculations --target calculations -t calc/calculations .
#   docker build --build-arg PROJECT=services/Calc.Jobs          --build-arg APP=Calc.Jobs         --target jobs-api     -t calc/jobs .
#   docker build --build-arg PROJECT=services/Calc.Jobs          --build-arg APP=Calc.Jobs         --target jobs-worker  -t calc/jobs-worker .
# deploy/compose.yaml names all three for each image it builds, and deploy/check.sh replays exactly those builds
# without an engine (same files, same commands; a target built from the wrong app fails there, its entry point
# missing): keep RUN lines of the build stages to paths relative to WORKDIR.

# 1. The internal packages (Calc.Core, Calc.Numerics, Calc.Data.Abstractions and its providers)
#    packed into the local feed by the Cake build's Pack target, which also records their version in
#    artifacts/internal-packages.props. The same for every app, so an engine builds it once for all of them.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS packages
WORKDIR /src
COPY global.json nuget.config build.sh build.cake Directory.Build.props Directory.Packages.props .editorconfig ./
COPY .config/ .config/
COPY Calc.Core/ Calc.Core/
COPY Calc.Numerics/ Calc.Numerics/
COPY Calc.Data.Abstractions/ Calc.Data.Abstractions/
COPY Calc.Data.Sqlite/ Calc.Data.Sqlite/
COPY Calc.Data.Marten/ Calc.Data.Marten/
COPY Calc.Data.Mongo/ Calc.Data.Mongo/
COPY Calc.Data.Redis/ Calc.Data.Redis/
RUN ./build.sh pack

# 2. The app, restored from that feed (the project file first, so the restore is cached until it changes), then
#    published. shared/ holds source that apps compile in (Calc.Epoll); their project files import it.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG PROJECT
ARG APP
WORKDIR /src
COPY global.json nuget.config Directory.Build.props Directory.Packages.props .editorconfig ./
COPY --from=packages /src/artifacts/ artifacts/
COPY shared/ shared/
COPY ${PROJECT}/${APP}.csproj ${PROJECT}/
RUN dotnet restore "$PROJECT/$APP.csproj"
COPY ${PROJECT}/ ${PROJECT}/
RUN dotnet publish "$PROJECT/$APP.csproj" -c Release --no-restore -o publish -p:UseAppHost=false

# 3. What every runtime image shares: ASP.NET Core runtime only (the cache too: it runs on Kestrel's connection
#    handlers), the health probe, the app's files, a non-root user ($APP_UID: the "app" user the .NET images ship with).
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
COPY deploy/docker/calc-health /usr/local/bin/calc-health
WORKDIR /app
COPY --from=build /src/publish/ ./
USER $APP_UID

# 4. One target per image: what differs is the entry point, the port and the health check.

# The gateway, the public entry point. Kestrel listens on ASPNETCORE_HTTP_PORTS (8080).
FROM runtime AS gateway
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["calc-health", "http", "/health/ready"]
ENTRYPOINT ["dotnet", "Calc.Gateway.dll"]

# The Redis-protocol server that holds the gateway's registry; it takes redis-server's options
# (docker run calc/cache --requirepass secret --maxmemory 100mb). The append-only file, when asked for
# (--appendonly yes), goes to the working folder /data: mount a volume there.
FROM runtime AS cache
USER root
RUN mkdir -p /data && chown "$APP_UID" /data
USER $APP_UID
WORKDIR /data
EXPOSE 6379
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 CMD ["calc-health", "resp", "6379"]
ENTRYPOINT ["dotnet", "/app/Calc.Cache.dll", "--bind", "0.0.0.0", "--port", "6379"]

# The calculations service. libgmp: Calc.Numerics loads libgmp.so.10 when present (factorials and big products run in
# GMP; without it they fall back to the slower managed engine, and GET /status names the engine in use). Installed by
# name so that a change of base image cannot drop it silently. SQLite's native library comes with the published app.
FROM runtime AS calculations
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgmp10 \
 && rm -rf /var/lib/apt/lists/*
USER $APP_UID
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["calc-health", "http", "/health/ready"]
ENTRYPOINT ["dotnet", "Calc.Calculations.dll"]

# The Jobs service: two images of one app. Ready = database and queue reachable (a worker serves /health/* and
# /status only).
FROM runtime AS jobs
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["calc-health", "http", "/health/ready"]
ENTRYPOINT ["dotnet", "Calc.Jobs.dll"]

# Workers: consume the queue (Queue__Provider=rabbitmq); scale them by queue depth.
FROM jobs AS jobs-worker
CMD ["--role", "worker"]

# The API: stores and queues jobs; with Queue__Provider=inprocess run it with --role all.
FROM jobs AS jobs-api
CMD ["--role", "api"]
