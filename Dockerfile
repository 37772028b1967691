# Arbor's container image: `docker build -t arbor:0.1.0 .` (see docs/kubernetes.md).
# Stage 1 builds the jars with Maven; stage 2 is a JRE with the jars, Arbor's launcher and the tiny test models.
# For device=cuda, build on a CUDA runtime base (the JRE is copied in, so any glibc base works):
#   docker build --build-arg RUNTIME_IMAGE=nvidia/cuda:12.6.3-runtime-ubuntu22.04 -t arbor:0.1.0-cuda .
ARG RUNTIME_IMAGE=eclipse-temurin:17-jre

FROM maven:3-eclipse-temurin-17 AS build
WORKDIR /src
# poms first: the dependency layer is cached until a pom changes
COPY pom.xml ./
COPY config/pom.xml config/
COPY gpu/pom.xml gpu/
COPY gpu/protocol/pom.xml gpu/protocol/
COPY gpu/model/pom.xml gpu/model/
COPY gpu/engine/pom.xml gpu/engine/
COPY gpu/cuda/pom.xml gpu/cuda/
COPY gpu/tools/pom.xml gpu/tools/
COPY actors/pom.xml actors/
COPY http/pom.xml http/
COPY cluster/pom.xml cluster/
COPY cluster/bench/pom.xml cluster/bench/
COPY cluster/app/pom.xml cluster/app/
COPY cluster/overhead/pom.xml cluster/overhead/
COPY it/pom.xml it/
RUN mvn -B -q -pl cluster/app -am dependency:go-offline -DexcludeReactor=true || true
COPY config/src config/src
COPY gpu/protocol/src gpu/protocol/src
COPY gpu/model/src gpu/model/src
COPY gpu/engine/src gpu/engine/src
COPY gpu/cuda/src gpu/cuda/src
COPY actors/src actors/src
COPY http/src http/src
COPY cluster/bench/src cluster/bench/src
COPY cluster/app/src cluster/app/src
# one reactor invocation, so the sibling modules' jars resolve from their target/ (nothing is installed)
RUN mvn -B -q -pl cluster/app -am package -Dmaven.test.skip=true \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/out/lib \
 && cp cluster/app/target/arbor-cluster-app-*.jar /out/lib/

FROM eclipse-temurin:17-jre AS jre

FROM ${RUNTIME_IMAGE}
COPY --from=jre /opt/java/openjdk /opt/java/openjdk
# the tokenizer library unpacks its native code into DJL_CACHE_DIR (default ~/.djl.ai): keep it writable for uid 10001
# ARBOR_HOST: in a container the API and management must listen on every interface (the default, 127.0.0.1, would
# be unreachable from outside the container); remoting binds where arbor.host says too
ENV JAVA_HOME=/opt/java/openjdk \
    PATH=/opt/java/openjdk/bin:$PATH \
    DJL_CACHE_DIR=/tmp/djl \
    ARBOR_HOST=0.0.0.0
COPY --from=build /out/lib /opt/arbor/lib
COPY k8s/image/arbor /opt/arbor/bin/arbor
# the tiny models let a CPU-only lab answer without a model volume (ARBOR_MODEL=/opt/arbor/models/tiny-qwen2)
COPY models /opt/arbor/models
RUN useradd --system --uid 10001 --home-dir /opt/arbor arbor 2>/dev/null || adduser -S -u 10001 -h /opt/arbor arbor; \
    mkdir -p /models && chown 10001 /models
USER 10001
WORKDIR /opt/arbor
# 8000 OpenAI API (frontends), 8558 Pekko Management (/ready, /alive, /metrics), 25520 Pekko remoting
EXPOSE 8000 8558 25520
ENTRYPOINT ["/opt/arbor/bin/arbor"]
CMD ["node"]
