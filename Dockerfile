# Multi-stage build of the parindex server. Used by docker-compose.yml.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The image's binary carries no debug sections (under 80 MB instead of 250): scripts/release.sh
# moves them into parindex.debug, shipped beside it, which the binary names (.gnu_debuglink):
# a backtrace still gives source files and lines. The script fails if any .debug_* section is
# left in the binary, or if a backtrace from it names no source line.
RUN scripts/release.sh --locked \
 && cp target/dist/parindex target/dist/parindex.debug /usr/local/bin/

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/parindex --create-home parindex
COPY --from=build /usr/local/bin/parindex /usr/local/bin/parindex.debug /usr/local/bin/
USER parindex
WORKDIR /var/lib/parindex
ENV PARINDEX_ADDR=0.0.0.0:8080 \
    RUST_LOG=info
EXPOSE 8080
# The binary probes itself: no curl needed in the image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["parindex", "healthcheck"]
CMD ["parindex", "serve"]
