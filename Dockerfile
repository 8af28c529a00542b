# omnidoc-sandbox: the sandbox server, listening on 0.0.0.0:8000, data in /data.
#   docker build -t omnidoc-sandbox .
#   docker run --rm -p 127.0.0.1:8000:8000 -v omnidoc-data:/data omnidoc-sandbox
# Any Python >= 3.11 slim image works as the base:
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim -t omnidoc-sandbox .
# Classic-builder compatible on purpose: no syntax line, no BuildKit-only instructions.
ARG PYTHON_IMAGE=python:3.12-slim
FROM ${PYTHON_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# The pinned runtime dependencies, in a layer of their own: code changes reuse it.
COPY requirements.lock /opt/omnidoc-sandbox/requirements.lock
RUN python -m venv /opt/venv \
 && pip install -r /opt/omnidoc-sandbox/requirements.lock

# The package itself (non-editable, dependencies already there). app/fixtures is a
# symlink to ../fixtures in the source tree; the wheel carries the real files.
COPY pyproject.toml README.md /tmp/src/
COPY fixtures /tmp/src/fixtures
COPY app /tmp/src/app
RUN pip install --no-deps /tmp/src \
 && rm -rf /tmp/src \
 && ln -s "$(python -c 'import app.config as c; print(c.PACKAGED_FIXTURES.parent)')" \
      /opt/omnidoc-sandbox/fixtures \
 && test -f /opt/omnidoc-sandbox/fixtures/default.yaml \
 && test -f /opt/omnidoc-sandbox/fixtures/compose.yaml \
 && omnidoc-sandbox --help >/dev/null

# A non-root user owning the data dir; a new named volume inherits that ownership.
RUN groupadd --system --gid 10001 sandbox \
 && useradd --system --uid 10001 --gid sandbox --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin sandbox \
 && mkdir -p /data \
 && chown sandbox:sandbox /data
ENV OMNIDOC_DATA_DIR=/data
VOLUME ["/data"]
WORKDIR /data
USER sandbox

EXPOSE 8000
# Healthy once /readyz answers 200 (database ready, fixtures loaded). Stdlib only: no curl.
HEALTHCHECK --interval=5s --timeout=4s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:8000/readyz', timeout=3).status == 200 else 1)"]

CMD ["omnidoc-sandbox", "serve", "--host", "0.0.0.0", "--port", "8000"]
