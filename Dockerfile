# kratom-monitor: the worker (`monitor run`) in a container. See docs/deployment.md.
#
#   docker build -t kratom-monitor .
#   docker run -d --name kratom-monitor --restart unless-stopped --env-file /srv/kratom-monitor/env \
#       -v kratom-monitor-state:/app/state -v /srv/kratom-monitor/config:/app/config:ro kratom-monitor
#
# The image carries the shipped sources.yaml in /app/config; mount a directory of your own there (a directory,
# not the file alone, so that an editor's save reaches the running worker). The state is a volume: keep it, and
# run one container per state volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MONITOR_SOURCES=/app/config/sources.yaml \
    MONITOR_STATE_DIR=/app/state

COPY pyproject.toml README.md /src/
COPY monitor/ /src/monitor/
RUN pip install /src && rm -rf /src

RUN groupadd --system --gid 10001 monitor \
    && useradd --system --uid 10001 --gid monitor --home-dir /app --no-create-home --shell /usr/sbin/nologin monitor \
    && mkdir -p /app/config /app/state \
    && chown monitor:monitor /app/state
COPY sources.yaml /app/config/sources.yaml
COPY contrib/healthcheck.py /app/healthcheck.py
WORKDIR /app

USER 10001:10001
VOLUME ["/app/state"]
# Unhealthy when no source is scheduled or the worker has fallen behind its schedule (contrib/healthcheck.py).
HEALTHCHECK --interval=1m --timeout=15s --start-period=1m --retries=3 CMD ["python", "/app/healthcheck.py"]
# `docker stop` sends SIGTERM: the worker stops within about 5 s and loses nothing.
STOPSIGNAL SIGTERM
ENTRYPOINT ["monitor"]
CMD ["run"]
