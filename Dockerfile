# Plenum container image.
#
#   docker build -t plenum .
#   docker run -d -p 127.0.0.1:8080:8080 -v plenum-data:/data plenum
#
# Without PLENUM_DATABASE_URL the server keeps a SQLite database in /data;
# see docker-compose.yml for a setup with PostgreSQL.

# ---- build stage ------------------------------------------------------------
FROM rust:1.95-bookworm AS builder

WORKDIR /src

# Only what the workspace needs to build. rust-toolchain.toml is left out on
# purpose: the image already ships the pinned compiler, and the file would make
# rustup download extra components (clippy, rustfmt) the build does not use.
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
COPY migrations ./migrations
COPY tests ./tests

RUN cargo build --release -p plenum-server --locked \
 && install -D -m 0755 target/release/plenum /out/plenum

# ---- runtime stage ----------------------------------------------------------
FROM debian:bookworm-slim

LABEL org.opencontainers.image.title="Plenum" \
      org.opencontainers.image.description="Digital council work: paperless sessions, electronic voting, council information system (OParl 1.1)" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"

# Versions are not pinned: the Debian stable archive only ships security updates.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 plenum \
 && useradd --system --uid 10001 --gid plenum --home-dir /data --no-create-home \
            --shell /usr/sbin/nologin plenum \
 && install -d -m 0750 -o plenum -g plenum /data

COPY --from=builder /out/plenum /usr/local/bin/plenum
COPY web /usr/share/plenum/web

ENV PLENUM_DATA_DIR=/data \
    PLENUM_BIND=0.0.0.0:8080 \
    PLENUM_WEB_DIR=/usr/share/plenum/web

# The numeric id of user "plenum", so orchestrators can verify it is not root.
USER 10001:10001
WORKDIR /data
VOLUME /data
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["curl", "-fsS", "http://127.0.0.1:8080/healthz"]

ENTRYPOINT ["plenum"]
CMD ["serve"]
