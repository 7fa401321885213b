# The Aftercare image: one image, one component per container (`aftercare api|ingest|monitor`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# uid/gid 1883 is the `mosquitto` user of the eclipse-mosquitto image: broker-init writes the dynamic
# security plugin's file with mode 0600 into a volume the broker then reads and rewrites itself.
RUN groupadd --system --gid 1883 aftercare \
 && useradd --system --uid 1883 --gid 1883 --home-dir /var/lib/aftercare --shell /usr/sbin/nologin aftercare

WORKDIR /src
# Exact versions with hashes first (its own layer, cached while the lock is unchanged); then the project
# alone. The lock has no amqtt: the embedded development broker is not in the production image.
COPY requirements/production.lock ./requirements/production.lock
RUN pip install --require-hashes -r requirements/production.lock
COPY pyproject.toml README.md ./
COPY aftercare ./aftercare
COPY api ./api
COPY cases ./cases
COPY dashboards ./dashboards
COPY devices ./devices
COPY ingest ./ingest
COPY monitor ./monitor
COPY simulators ./simulators
COPY store ./store
RUN pip install --no-deps . && pip check && rm -rf /src

# Mount points of the volumes: photos and other data, and the broker's accounts file (broker-init only).
# A named volume mounted here for the first time takes this ownership.
RUN mkdir -p /var/lib/aftercare/data /var/lib/aftercare/broker \
 && chown -R aftercare:aftercare /var/lib/aftercare
WORKDIR /var/lib/aftercare
USER aftercare

# Where the API listens, and its certificate, are the api service's own settings (docker-compose.yml): an
# image-wide AFTERCARE_API_HOST=0.0.0.0 would make every other component's production check refuse plain HTTP.
ENV AFTERCARE_MODE=production \
    AFTERCARE_DATA_DIR=/var/lib/aftercare/data
EXPOSE 8443
CMD ["aftercare", "api"]
