# The hub as a container image: `docker build -t bridgehub .`; how to run it is in
# docs/deployment.md ("A container"). By default the container runs `bridgehub serve`
# (API, web UI and a worker; the embedded PostgreSQL in /var/lib/bridgehub unless
# DATABASE_URL is set); `docker run bridgehub worker` runs jobs only.

# Stage 1: the project and the dependencies uv.lock pins, in a virtual environment.
FROM python:3.11-slim AS build
WORKDIR /app
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
COPY pyproject.toml uv.lock README.md ./
# uv at the version uv.lock names, as `make setup` installs it.
RUN pip install --no-cache-dir --disable-pip-version-check \
    "uv==$(python -c 'import tomllib; print(next(p["version"] for p in tomllib.load(open("uv.lock", "rb"))["package"] if p["name"] == "uv"))')"
# Dependencies in a layer of their own, which a change to the hub's code does not rebuild.
RUN uv sync --frozen --no-install-project --python /usr/local/bin/python
COPY src ./src
# Not editable: the second stage takes the environment without the sources.
RUN uv sync --frozen --no-editable --python /usr/local/bin/python

# Stage 2: that environment alone, run by a user without privileges (the embedded
# PostgreSQL refuses to run as root).
FROM python:3.11-slim
RUN groupadd --system --gid 10001 bridgehub \
    && useradd --system --uid 10001 --gid bridgehub --create-home --home-dir /var/lib/bridgehub \
    bridgehub
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BRIDGEHUB_HOME=/var/lib/bridgehub \
    BRIDGEHUB_PORT=8000 \
    BRIDGEHUB_LOG_FORMAT=json
# By number, so that a runtime can tell it is not root (Kubernetes' runAsNonRoot).
USER 10001:10001
WORKDIR /var/lib/bridgehub
# The embedded database and the generated keys: keep them in a volume.
VOLUME /var/lib/bridgehub
EXPOSE 8000
# Liveness only: a process that answers is healthy even while its database is away (load
# balancers read /health/ready for that). Images have no curl; Python asks instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=4)"]
# serve and worker drain within 30 s of SIGTERM: run containers with `--stop-timeout 40`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["bridgehub"]
CMD ["serve", "--host", "0.0.0.0"]
