# omnidoc-sandbox: the sandbox server, listening on 0.0.0.0:8000, data in /data.
#   docker build -t omnidoc-sandbox .
#   docker run --rm -p 127.0.0.1:8000:8000 -v omnidoc-data:/data omnidoc-sandbox
# Any Python >= 3.11 slim image works as the base (the default is python:3.11-slim):
#   docker build --build-arg PYTHON_IMAGE=python:3.12-slim -t omnidoc-sandbox .
# Two stages: the first installs and trims the virtual environment, the second copies
# it onto a clean base, so no pip, setuptools or build tool reaches the image.
# Classic-builder compatible on purpose: no syntax line, no BuildKit-only instructions.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# `strip` only, to drop the debug symbols of compiled extensions (uvloop: 13.6 -> 1.6 MB).
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils \
 && rm -rf /var/lib/apt/lists/*

# The pinned runtime dependencies, in a layer of their own: code changes reuse it.
# The venv has no pip of its own: the base image's pip installs into it.
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv --without-pip /opt/venv \
 && python -m pip --python /opt/venv/bin/python install -r /tmp/requirements.lock \
 && find /opt/venv -name '*.so' \( -name '*.cpython-*' -o -name '*.abi3.so' \) \
      -exec strip --strip-unneeded {} + \
 && /opt/venv/bin/python -c "import uvloop, httptools.parser.parser, pydantic_core, PIL._imaging, \
yaml, psycopg, sqlalchemy.util._has_cython as sa, fontTools.misc.bezierTools as bt; \
assert yaml.__with_libyaml__ and psycopg.pq.__impl__ == 'binary' and sa.HAS_CYEXTENSION; \
assert bt.COMPILED, 'a stripped extension no longer loads'"

# The package itself (non-editable, dependencies already there). app/fixtures is a
# symlink to ../fixtures in the source tree; the wheel carries the real files.
COPY pyproject.toml README.md /tmp/src/
COPY fixtures /tmp/src/fixtures
COPY app /tmp/src/app
RUN python -m pip --python /opt/venv/bin/python install --no-deps /tmp/src

FROM ${PYTHON_IMAGE}

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

COPY --from=build /opt/venv /opt/venv
# The packaged fixtures at a fixed path, whatever the Python version.
RUN mkdir -p /opt/omnidoc-sandbox \
 && ln -s "$(python -c 'import app.config as c; print(c.PACKAGED_FIXTURES.parent)')" \
      /opt/omnidoc-sandbox/fixtures \
 && test -f /opt/omnidoc-sandbox/fixtures/default.yaml \
 && test -f /opt/omnidoc-sandbox/fixtures/compose.yaml \
 && test -f /opt/omnidoc-sandbox/fixtures/demo-seed.tar \
 && python -c "import app.reports.pdf as r; assert (r.FONTS_DIR / 'DejaVuSans.ttf').is_file()" \
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
