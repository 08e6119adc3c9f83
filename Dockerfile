# mysql-test-toolkit: MariaDB from Debian behind the toolkit's agent on 3306.
# Build with scripts/image (it builds the toolkit with the Swift runtime linked in, then this).
ARG BASE=debian:bookworm-slim
FROM ${BASE}

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      mariadb-server mariadb-client libmariadb3 libpq5 openssl iptables iproute2 \
 && rm -rf /var/lib/apt/lists/* /var/lib/mysql/*

COPY .build-static/image/toolkit /usr/local/bin/toolkit
# Every library the binary links must be in the image (libmariadb for the source, libpq for
# verify); openssl makes the toolkit's CA at the first start.
RUN if ldd /usr/local/bin/toolkit | grep "not found"; then exit 1; fi
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh

# The source's state: data directory, binlogs, journal, configuration.
ENV TOOLKIT_HOME=/var/lib/toolkit
VOLUME ["/var/lib/toolkit"]
RUN mkdir -p /docker-entrypoint-initdb.d
EXPOSE 3306

HEALTHCHECK --interval=5s --timeout=10s --start-period=120s --retries=3 \
  CMD ["toolkit", "status", "--json"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["docker-entrypoint.sh"]
