# syntax=docker/dockerfile:1
# cy's container image: the server app with the llama.cpp, whisper.cpp, stable-diffusion.cpp, SenseVoice and TTS (onnxruntime) adapters (docs/container.md).
#
#   docker build -t cy .                                   # CPU
#   docker build --build-arg VARIANT=cuda -t cy:cuda .     # NVIDIA GPUs (CUDA 13; run with --gpus all)
#
# stable-diffusion.cpp's sources are cloned from upstream at the adapter's pinned commit; without network, give
# them as a build context: docker build --build-context sd-src=../shared/vendor/stable-diffusion.cpp -t cy .
#
# Needs BuildKit (Docker 23+ uses it by default): it builds only the stages VARIANT picks.

ARG VARIANT=cpu
ARG BUN_VERSION=1.4.5
ARG DEBIAN_IMAGE=debian:bookworm-slim
# node-llama-cpp 3.22.1's CUDA build links libcudart.so.13 and libcublas.so.13, and was built on Ubuntu 22.04.
ARG CUDA_VERSION=13.0.0

# The Bun binary, copied into each stage that runs Bun (glibc builds run on Debian and Ubuntu alike).
FROM oven/bun:${BUN_VERSION}-slim AS bun

# Base images per variant: build-* has what compiles whisper.cpp, run-* what the engines load at run time.
FROM ${DEBIAN_IMAGE} AS build-cpu
FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04 AS build-cuda
FROM ${DEBIAN_IMAGE} AS run-cpu
FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu22.04 AS run-cuda

# Production dependencies of the workspace, from the lockfile; the CUDA variant adds llama.cpp's CUDA build.
FROM build-${VARIANT} AS deps
ARG VARIANT
COPY --from=bun /usr/local/bin/bun /usr/local/bin/bun
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
COPY apps/server/package.json apps/server/
COPY packages/adapter-llama/package.json packages/adapter-llama/
COPY packages/adapter-sdxl/package.json packages/adapter-sdxl/
COPY packages/adapter-sensevoice/package.json packages/adapter-sensevoice/
COPY packages/adapter-tts/package.json packages/adapter-tts/
COPY packages/adapter-whisper/package.json packages/adapter-whisper/
COPY packages/audio/package.json packages/audio/
COPY packages/cluster/package.json packages/cluster/
COPY packages/core/package.json packages/core/
COPY packages/gateway/package.json packages/gateway/
COPY packages/grpc/package.json packages/grpc/
COPY packages/http/package.json packages/http/
COPY packages/hub/package.json packages/hub/
COPY packages/image/package.json packages/image/
COPY packages/native/package.json packages/native/
COPY packages/onnx/package.json packages/onnx/
RUN bun install --frozen-lockfile --production --ignore-scripts
# Beside the CPU package, in the adapter's own node_modules, where its library resolver looks (GPU first).
RUN if [ "$VARIANT" = cuda ]; then \
      mkdir -p /tmp/gpu && cd /tmp/gpu && echo '{"name":"gpu","private":true}' > package.json && \
      bun add --exact --ignore-scripts @node-llama-cpp/linux-x64-cuda@3.22.1 && \
      cp -rL node_modules/@node-llama-cpp/linux-x64-cuda /app/packages/adapter-llama/node_modules/@node-llama-cpp/ && \
      rm -rf /tmp/gpu; \
    fi

# whisper.cpp, compiled here once from the sources the nodejs-whisper package ships, so the container never
# compiles at start: the libraries go to /opt/cy/whisper/lib (CY_WHISPER_LIB below).
FROM deps AS whisper
ARG VARIANT
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make ninja-build \
 && rm -rf /var/lib/apt/lists/*
COPY packages/native packages/native
COPY packages/adapter-whisper packages/adapter-whisper
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN lib="$(CY_CACHE_DIR=/tmp/cy-cache bun run --cwd packages/adapter-whisper engines:build whisper "--${VARIANT}" | tail -n 1)" \
 && mkdir -p /opt/cy/whisper \
 && cp -a "$lib" /opt/cy/whisper/lib \
 && rm -rf /tmp/cy-cache

# stable-diffusion.cpp's sources at the commit sd-version.ts pins (the one place it is pinned), with ggml.
FROM ${DEBIAN_IMAGE} AS sd-src
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
COPY packages/adapter-sdxl/src/library/sd-version.ts /tmp/sd-version.ts
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN commit="$(grep -o '[0-9a-f]\{40\}' /tmp/sd-version.ts | head -n 1)" \
 && git clone --filter=blob:none https://github.com/leejet/stable-diffusion.cpp /src \
 && git -C /src checkout "$commit" \
 && git -C /src submodule update --init --depth 1 ggml \
 && rm -rf /src/.git/modules /src/docs /src/assets

# stable-diffusion.cpp, compiled once for generic CPUs of the architecture (--portable), into /opt/cy/sd
# (lib/ with its build stamp, include/ for the shim, share/ for the CLIP merges; CY_SD_LIB below).
FROM deps AS sd
ARG VARIANT
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make ninja-build git \
 && rm -rf /var/lib/apt/lists/*
COPY --from=sd-src /src /src/sd
COPY packages/native packages/native
COPY packages/adapter-sdxl packages/adapter-sdxl
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN lib="$(CY_CACHE_DIR=/tmp/cy-cache bun run --cwd packages/adapter-sdxl engines:build sd "--${VARIANT}" --portable --src /src/sd | tail -n 1)" \
 && mkdir -p /opt/cy/sd \
 && cp -a "$lib" "$lib/../include" "$lib/../share" /opt/cy/sd/ \
 && rm -rf /tmp/cy-cache

# libmtmd (vision: llama.cpp's multimodal library), compiled once from the llama.cpp sources node-llama-cpp
# ships (its npm tarball's git bundle) against the prebuilt libllama, into /opt/cy/mtmd (CY_MTMD_LIB below).
FROM deps AS mtmd
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl g++ git \
 && rm -rf /var/lib/apt/lists/*
COPY packages/native packages/native
COPY packages/adapter-llama packages/adapter-llama
COPY packages/core packages/core
COPY packages/image packages/image
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN curl -fsSL https://registry.npmjs.org/node-llama-cpp/-/node-llama-cpp-3.22.1.tgz | tar xz -C /tmp package/llama/gitRelease.bundle \
 && git clone --quiet /tmp/package/llama/gitRelease.bundle /src/llama.cpp \
 && lib="$(CY_CACHE_DIR=/tmp/cy-cache bun run --cwd packages/adapter-llama engines:build mtmd --src /src/llama.cpp | tail -n 1)" \
 && mkdir -p /opt/cy && cp -a "$lib" /opt/cy/mtmd \
 && rm -rf /tmp/cy-cache /tmp/package /src/llama.cpp

FROM run-${VARIANT} AS runtime
# ffmpeg converts audio formats; libgomp1 is whisper.cpp's OpenMP; libc6-dev has the C headers and libc.so
# that bun:ffi's compiler (TinyCC) needs for the engines' small shims; tini reaps the engine processes;
# espeak-ng is the text-to-speech voices' phonemizer.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg libgomp1 libc6-dev tini libespeak-ng1 espeak-ng-data \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/cy --shell /usr/sbin/nologin cy \
 && mkdir -p /models /data \
 && chown cy:cy /models /data
COPY --from=bun /usr/local/bin/bun /usr/local/bin/bun
WORKDIR /app
COPY --from=deps /app ./
COPY --from=whisper /opt/cy/whisper /opt/cy/whisper
COPY --from=sd /opt/cy/sd /opt/cy/sd
COPY --from=mtmd /opt/cy/mtmd /opt/cy/mtmd
COPY package.json tsconfig.json ./
COPY packages packages
COPY apps apps
# The adapters are found as installed packages, as in a checkout (the production install leaves out the root's
# dev dependencies, which is where they are listed).
RUN mkdir -p node_modules/@cy \
 && ln -s ../../packages/adapter-llama node_modules/@cy/adapter-llama \
 && ln -s ../../packages/adapter-sdxl node_modules/@cy/adapter-sdxl \
 && ln -s ../../packages/adapter-sensevoice node_modules/@cy/adapter-sensevoice \
 && ln -s ../../packages/adapter-tts node_modules/@cy/adapter-tts \
 && ln -s ../../packages/adapter-whisper node_modules/@cy/adapter-whisper

ENV PORT=8080 \
    CY_MODELS_DIR=/models \
    CY_RESPONSES_DB=/data/responses.sqlite \
    CY_WHISPER_LIB=/opt/cy/whisper/lib \
    CY_SD_LIB=/opt/cy/sd/lib \
    CY_MTMD_LIB=/opt/cy/mtmd \
    CY_CACHE_DIR=/home/cy/.cache/cy \
    HF_HUB_CACHE=/data/huggingface/hub \
    CY_PULLED_MODELS=/data/pulled-models.json
VOLUME ["/models", "/data"]
EXPOSE 8080 9080
USER cy:cy
# Liveness on the public /health, at $PORT (set PORT, not --port, to move the server).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bun", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Bound to every interface, as a container must be to be reached; the banner warns until CY_API_KEY is set.
# Arguments after the image name are the server's own flags (docker run ... cy --api-key k, or a pod's args).
ENTRYPOINT ["tini", "--", "bun", "apps/server/src/main.ts", "--host", "0.0.0.0"]
