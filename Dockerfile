# syntax=docker/dockerfile:1
# Parley: API workers, job worker and CLI in one image. Build: docker build -t parley .

# ---- build: compile wheels (llama-cpp-python builds from source) into a virtualenv
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY knowledge ./knowledge
COPY widget ./widget
COPY evals ./evals
# torch (a core dependency: the e5 runtime) from the CPU index first, so nothing pulls CUDA wheels.
# Portable CPU build of llama.cpp: no -march=native, so the image runs on any x86-64 host.
RUN python -m venv /opt/parley \
 && /opt/parley/bin/pip install --upgrade pip \
 && /opt/parley/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && CMAKE_ARGS="-DGGML_NATIVE=OFF" /opt/parley/bin/pip install -c constraints.txt ".[local]"

# ---- runtime: no compilers, non-root user, data on a volume
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 --shell /usr/sbin/nologin parley \
 && mkdir -p /data/chroma && chown -R parley:parley /data
COPY --from=build /opt/parley /opt/parley
ENV PATH=/opt/parley/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    PARLEY_DATA_DIR=/data \
    PARLEY_SERVER__HOST=0.0.0.0 \
    PARLEY_SERVER__PORT=8000
USER parley
WORKDIR /home/parley
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["parley", "serve"]
