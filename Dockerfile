# The bot as a container: `docker build -t complaint-bot .` (deploy/compose.yaml runs it
# with PostgreSQL in webhook mode). Non-root; the SQLite file, if used, lives in the volume
# /app/data; the config is mounted at /config/config.toml; the token comes from the
# environment (COMPLAINT_BOT_TOKEN), like the database URL may (COMPLAINT_BOT_DATABASE_URL).

# The wheel, built as `make check-wheel` builds and checks it (texts and migrations inside).
FROM python:3.11-slim AS wheel
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
# pg_dump and pg_restore for `complaint-bot backup` / `restore` on PostgreSQL.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
COPY constraints.txt /tmp/constraints.txt
COPY --from=wheel /wheels /tmp/wheels
RUN pip install --no-cache-dir -c /tmp/constraints.txt /tmp/wheels/*.whl \
    && rm -rf /tmp/wheels /tmp/constraints.txt
RUN useradd --system --uid 10001 --home-dir /app --create-home bot \
    && mkdir -p /app/data /config && chown bot /app/data
USER bot
WORKDIR /app
VOLUME ["/app/data"]
ENV PYTHONUNBUFFERED=1
# [web] listen = "0.0.0.0:8080": the webhook, /healthz and /metrics.
EXPOSE 8080
CMD ["complaint-bot", "run", "--config", "/config/config.toml"]
