# syntax=docker/dockerfile:1
# ilchatd container image: a drop-in for unihalle/ilias-chatserver (same ILIAS_CHAT_* variables,
# ILIAS_AUTO_CONFIGURE, port 27019), see etc/docker/entrypoint.sh.
#
#   docker build -t ilchatd .
#   docker run -d --name ilchatd --env-file .env -p 27019:27019 ilchatd
#
# Both stages take their Debian packages from the project's one list, etc/debian-packages.txt,
# through tests/env/packages.sh (roles "build" and "run"), so the image cannot drift from the
# list that README and CI use. The run role includes ca-certificates: `ilchatctl health` verifies
# an https server's certificate (`--url https://...`) against the system's CAs.

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
# volumes' defaults; a fresh named volume inherits their owner. The old image's /etc/chat and
# /var/log/chat are not created here: the entrypoint uses them when they exist, i.e. are mounted.
RUN groupadd --system --gid 800 ilchatd \
 && useradd --system --uid 800 --gid ilchatd --home-dir /var/lib/ilchatd --no-create-home \
      --shell /usr/sbin/nologin --comment "ILIAS chat server" ilchatd \
 && install -d -o ilchatd -g ilchatd -m 0750 /etc/ilchatd /var/log/ilchatd /var/lib/ilchatd /run/ilchatd

COPY --from=build /build/daemon/ilchatd /usr/local/sbin/ilchatd
COPY --from=build /build/ctl/ilchatctl /usr/local/bin/ilchatctl
COPY etc/docker/entrypoint.sh /usr/local/bin/docker-entrypoint.sh

# Defaults of `ilchatctl init`. ILIAS_CHAT_CONFIG_DIR and ILIAS_CHAT_LOG_DIR are left unset: the
# entrypoint then picks the old image's folders when mounted, else the ones above.
# ILIAS_CHAT_LOG_DIR= (empty) logs to stderr, i.e. `docker logs`, instead of chat.log and
# chat_errors.log. ILCHATD_METRICS_ADDRESS=0.0.0.0:9464 lets a Prometheus outside the container
# scrape /metrics (default: loopback only).
ENV ILIAS_CHAT_ADDRESS=0.0.0.0 \
    ILIAS_CHAT_PORT=27019

# No USER: the entrypoint starts as root, as the uni-halle image did, gives the service user the
# folders ilchatd writes (a bind mount the engine created as root, say) and then drops to it with
# setpriv (util-linux, part of every Debian image).
WORKDIR /var/lib/ilchatd
VOLUME ["/etc/ilchatd", "/var/log/ilchatd", "/var/lib/ilchatd"]
EXPOSE 27019

# The heartbeat ILIAS itself asks for (`ilchatctl health`), on the address and port of the
# server.cfg in use, which only the entrypoint knows: the folder depends on what is mounted.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD docker-entrypoint.sh app:health || exit 1

# The entrypoint execs ilchatd (setpriv execs it in turn), so ilchatd is PID 1 and receives
# `docker stop`'s SIGTERM itself: it drains (queued database writes, chatroom_users →
# chatroom_sessions) and exits 0 well within docker's 10 s. It starts no child processes, so no
# init process is needed for reaping.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["app:serve"]
