# syntax=docker/dockerfile:1
# ilchatd container image: a drop-in for unihalle/ilias-chatserver (same ILIAS_CHAT_* variables,
# ILIAS_AUTO_CONFIGURE, port 27019), see etc/docker/entrypoint.sh.
#
#   docker build -t ilchatd .
#   docker run -d --name ilchatd --env-file .env -p 27019:27019 ilchatd
#
# Both stages take their Debian packages from the project's one list, etc/debian-packages.txt,
# through tests/env/packages.sh (roles "build" and "run"), so the image cannot drift from the
# list that README and CI use.

# ---------------------------------------------------------------------------------------------
FROM debian:bookworm AS build
WORKDIR /src
COPY etc/debian-packages.txt etc/debian-packages.txt
COPY tests/env/packages.sh tests/env/packages.sh
RUN tests/env/packages.sh install build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
 && cmake --build /build -j"$(nproc)" --target ilchatd ilchatctl \
 && strip /build/daemon/ilchatd /build/ctl/ilchatctl \
 && /build/daemon/ilchatd --version && /build/ctl/ilchatctl version

# ---------------------------------------------------------------------------------------------
FROM debian:bookworm AS runtime
COPY etc/debian-packages.txt /tmp/ilchatd/etc/debian-packages.txt
COPY tests/env/packages.sh /tmp/ilchatd/tests/env/packages.sh
RUN /tmp/ilchatd/tests/env/packages.sh install run && rm -rf /var/lib/apt/lists/* /tmp/ilchatd

# The user of the uni-halle image (800:800), so that its volumes keep working. The folders are the
# volumes' defaults; a fresh named volume inherits their owner.
RUN groupadd --system --gid 800 ilchatd \
 && useradd --system --uid 800 --gid ilchatd --home-dir /var/lib/ilchatd --no-create-home \
      --shell /usr/sbin/nologin --comment "ILIAS chat server" ilchatd \
 && install -d -o ilchatd -g ilchatd -m 0750 /etc/ilchatd /var/log/ilchatd /var/lib/ilchatd /run/ilchatd

COPY --from=build /build/daemon/ilchatd /usr/local/sbin/ilchatd
COPY --from=build /build/ctl/ilchatctl /usr/local/bin/ilchatctl
COPY etc/docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh

# Defaults of the entrypoint and `ilchatctl init`. ILIAS_CHAT_LOG_DIR= (empty) logs to stderr,
# i.e. `docker logs`, instead of chat.log and chat_errors.log. ILCHATD_METRICS_ADDRESS=0.0.0.0:9464
# lets a Prometheus outside the container scrape /metrics (default: loopback only).
ENV ILIAS_CHAT_CONFIG_DIR=/etc/ilchatd \
    ILIAS_CHAT_LOG_DIR=/var/log/ilchatd \
    ILIAS_CHAT_ADDRESS=0.0.0.0 \
    ILIAS_CHAT_PORT=27019

USER ilchatd:ilchatd
WORKDIR /var/lib/ilchatd
VOLUME ["/etc/ilchatd", "/var/log/ilchatd", "/var/lib/ilchatd"]
EXPOSE 27019

# The heartbeat ILIAS itself asks for, on the address and port of the server.cfg in use
# (127.0.0.1 when it listens on every address; --insecure: an https certificate names the public
# host, not 127.0.0.1).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ilchatctl health --server-cfg "$ILIAS_CHAT_CONFIG_DIR/server.cfg" --client-cfg "$ILIAS_CHAT_CONFIG_DIR/client.cfg" --timeout 4 --insecure || exit 1

# The entrypoint execs ilchatd, so ilchatd is PID 1 and receives `docker stop`'s SIGTERM itself:
# it drains (queued database writes, chatroom_users → chatroom_sessions) and exits 0 well within
# docker's 10 s. It starts no child processes, so no init process is needed for reaping.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["app:serve"]
