# syntax=docker/dockerfile:1
# Two stages: the build stage installs the package into a virtualenv with the pinned
# constraints; the runtime stage copies only that virtualenv, so no pip, no build cache
# and no source tree ship in the image.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY self_healing_bot ./self_healing_bot
# constraints.txt is the lock: the image gets exactly the versions CI tested.
RUN pip install --no-compile -c constraints.txt . \
 && python -m compileall -q /opt/venv

FROM python:3.11-slim-bookworm AS runtime
# A fixed numeric uid lets Kubernetes verify runAsNonRoot without reading /etc/passwd.
RUN groupadd --system --gid 10001 shbot \
 && useradd --system --uid 10001 --gid shbot --home-dir /app --shell /usr/sbin/nologin shbot \
 && mkdir -p /app/data \
 && chown -R 10001:10001 /app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SHBOT_DATABASE_URL=sqlite+aiosqlite:////app/data/shbot.db
WORKDIR /app
# Embedded mode (no SHBOT_BROKER_URL) keeps its SQLite database here; mount a volume.
VOLUME ["/app/data"]
USER 10001:10001
EXPOSE 8000
# The slim image has no curl; Python's urllib raises on any non-2xx answer, so the check fails.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["self-healing-bot"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
