# Multi-stage build of the parindex server. Used by docker-compose.yml.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The image's binary carries no debug sections: the release profile's line tables (kept for
# developers' backtraces) are not built here, and the standard library's are stripped. Symbols
# stay, so a backtrace still names its functions. The build fails if any .debug_* section is left.
RUN CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=debuginfo \
    cargo build --release -p parindex-api --locked \
 && cp target/release/parindex /usr/local/bin/parindex \
 && if readelf -S /usr/local/bin/parindex | grep -F .debug_; then \
      echo "debug sections left in the binary" >&2; exit 1; \
    fi

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/parindex --create-home parindex
COPY --from=build /usr/local/bin/parindex /usr/local/bin/parindex
USER parindex
WORKDIR /var/lib/parindex
ENV PARINDEX_ADDR=0.0.0.0:8080 \
    RUST_LOG=info
EXPOSE 8080
# The binary probes itself: no curl needed in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["parindex", "healthcheck"]
CMD ["parindex", "serve"]
