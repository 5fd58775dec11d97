# Conclave: the whole modular monolith in one image, with an embedded PostgreSQL 15 + pgvector
# under /data and Debian's Chromium for the browser tool (docs/adr/0012-self-hosted-image.md).
#   docker build -t conclave --build-arg CONCLAVE_VERSION=1.2.0 .
#   docker run ... conclave          (the full line with the workspace options: README, "Self-hosting")
# Offline machines and CI make the same image without a registry: scripts/image.sh (mmdebstrap of
# deploy/image/packages.txt + podman import, then deploy/image/Containerfile). Keep the runtime
# stage below and deploy/image/Containerfile in step. Sandboxes are sibling containers started
# through the mounted engine socket (their image: deploy/sandbox/Containerfile); user code never
# runs inside this container.

# --- the app: self-contained, as scripts/image.sh publishes it ---------------------------------
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS app
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY deploy/sandbox/seccomp.json deploy/sandbox/
COPY src/ src/
RUN dotnet publish src/Host/Conclave.Host.csproj -c Release -r linux-x64 --self-contained true \
      -p:DebugType=none -p:DebugSymbols=false -nologo -o /app

# --- pgvector: Debian 13's source package built against PostgreSQL 15, as scripts/postgres.sh does ---
FROM debian:bookworm AS pgvector
RUN echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
      >/etc/apt/sources.list.d/trixie-src.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends build-essential dpkg-dev postgresql-server-dev-15 \
 && mkdir /build && cd /build \
 && apt-get -o APT::Sandbox::User=root source --download-only pgvector \
 && tar -xf pgvector_*.orig.tar.* \
 && cd "$(find . -mindepth 1 -maxdepth 1 -type d | head -n1)" \
 && make OPTFLAGS="" PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config \
 && make install OPTFLAGS="" PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config DESTDIR=/out

# --- the image ----------------------------------------------------------------------------------
FROM debian:bookworm-slim
COPY deploy/image/packages.txt /tmp/packages.txt
# As scripts/image.sh: no docs or translations, no cluster made by the packaging (the entrypoint
# makes one under /data), the conclave user (uid 10001) for when the app need not mount, and
# conclave-browser (uid 10002), whom a root Host runs Chromium as (docs/adr/0018-browser-sandbox.md).
RUN mkdir -p /etc/postgresql-common/createcluster.d \
 && echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/conclave.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends $(sed -e 's/#.*//' /tmp/packages.txt) \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/* /tmp/packages.txt \
      /usr/share/doc /usr/share/man /usr/share/info /usr/share/locale /usr/share/lintian \
      /usr/share/postgresql/15/man /usr/include \
      /var/lib/postgresql/*/main /etc/postgresql/*/main \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin conclave \
 && useradd --system --uid 10002 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin conclave-browser \
 && mkdir -p /data /opt/conclave /run/postgresql \
 && chown postgres:postgres /run/postgresql

COPY --from=pgvector /out/usr/lib/postgresql/15/lib/vector.so /usr/lib/postgresql/15/lib/
COPY --from=pgvector /out/usr/share/postgresql/15/extension/ /usr/share/postgresql/15/extension/
COPY --chmod=0755 deploy/image/entrypoint.sh /usr/local/bin/conclave-entrypoint
COPY --chmod=0755 deploy/image/healthcheck.sh /usr/local/bin/conclave-healthcheck
COPY --chmod=0755 scripts/lib.sh scripts/backup.sh scripts/restore.sh /opt/conclave/scripts/
ARG CONCLAVE_VERSION=dev
RUN echo "$CONCLAVE_VERSION" >/opt/conclave/VERSION
COPY --from=app /app/ /opt/conclave/app/

ENV ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_RUNNING_IN_CONTAINER=true \
    DOTNET_NOLOGO=1 \
    LANG=C.UTF-8 \
    Conclave__Browser__ExecutablePath=/usr/bin/chromium
EXPOSE 8080
VOLUME /data
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 CMD ["/usr/local/bin/conclave-healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/conclave-entrypoint"]
LABEL org.opencontainers.image.title=conclave \
      org.opencontainers.image.description="Conclave: teams of AI agents with sandboxes; embedded PostgreSQL under /data" \
      org.opencontainers.image.version=$CONCLAVE_VERSION
