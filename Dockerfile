# chat's image: Debian bookworm, Debian's Python 3.11, the package installed at the
# versions of requirements.lock into a virtualenv, run by a non-root user with the
# Procfile's `web:` command (the same gunicorn configuration). Migrations are the
# Procfile's `release:` line, run as its own container before the new web ones:
#   docker run --rm -e ... chat flask --app wsgi migrate
# `make container-test` builds it (podman) on a base made here with debootstrap.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
# pip trusts Debian's CA bundle; behind a TLS-intercepting proxy, mount its bundle and
# name it: `--volume /etc/ssl/certs/ca-certificates.crt:/host-ca.crt:ro
# --build-arg PIP_CERT=/host-ca.crt` (make container-test does).
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml requirements.lock README.md LICENSE wsgi.py ./
COPY chat ./chat
COPY migrations ./migrations
COPY plugins ./plugins
# the package and the built-in plugins (requirements.txt's list, without the example)
RUN python3 -m venv /opt/chat \
 && /opt/chat/bin/pip install --no-cache-dir -c requirements.lock . \
      ./plugins/reactions ./plugins/file_sharing ./plugins/notifications \
 && /opt/chat/bin/pip uninstall -y pip

FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --create-home --shell /usr/sbin/nologin chat
COPY --from=build /opt/chat /opt/chat
WORKDIR /app
ENV PATH=/opt/chat/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CHAT_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/healthz' % os.environ['PORT'], timeout=2)"]
CMD ["gunicorn", "--config", "python:chat.gunicorn_conf", "wsgi:app"]
