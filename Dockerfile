# The image of cocoon's Home Assistant app (config.yaml beside this file). The
# Supervisor builds it with Docker BuildKit from this folder, the repository's root,
# for the machine's architecture (aarch64 or amd64); no build.yaml, no base image
# handed in. By hand: `docker build -t cocoon-app .` here. (deploy/docker/Dockerfile
# is the image for running cocoon beside Home Assistant Container instead.)
#
# Home Assistant's Python base image, one multi-architecture name, pinned to a
# release: it brings s6-overlay and bashio, which run.sh uses.
FROM ghcr.io/home-assistant/base-python:3.13-alpine3.24-2026.06.1

# The Supervisor passes the app's version from config.yaml; the default is the same.
ARG BUILD_VERSION=0.1.0

COPY pyproject.toml README.md /tmp/cocoon-src/
COPY src /tmp/cocoon-src/src
RUN pip install --no-cache-dir /tmp/cocoon-src \
    && rm -rf /tmp/cocoon-src

COPY deploy/homeassistant-addon/addon_config.py /usr/local/lib/cocoon-addon/addon_config.py
COPY deploy/homeassistant-addon/cocoon.yaml /usr/local/share/cocoon-addon/cocoon.yaml
COPY deploy/homeassistant-addon/run.sh /run.sh
RUN chmod a+x /run.sh

CMD ["/run.sh"]

LABEL io.hass.name="Cocoon" \
    io.hass.description="A gentle, predictable home: rituals, calm modes and plant care" \
    io.hass.type="app" \
    io.hass.version="${BUILD_VERSION}" \
    io.hass.arch="aarch64|amd64"
