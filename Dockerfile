# The ModelRollout operator image: `docker build -t ghcr.io/modelrollout/modelrollout:TAG .`
#
# Stage 1 builds a release binary with the Swift standard library and Foundation linked statically
# (--static-swift-stdlib), so the runtime image needs only glibc, libstdc++ and libgcc: distroless/cc.
# The builder is Ubuntu 22.04 (glibc 2.35), older than the runtime's Debian 12 (glibc 2.36), so the binary's
# glibc symbol versions all exist at run time.
ARG SWIFT_VERSION=6.1
ARG BUILDER=swift:${SWIFT_VERSION}-jammy
ARG RUNTIME=gcr.io/distroless/cc-debian12:nonroot

FROM ${BUILDER} AS build
WORKDIR /src
# Dependencies first, so they stay cached while only Sources/ changes.
COPY Package.swift Package.resolved ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product modelrollout \
    && install -D "$(swift build -c release --show-bin-path)/modelrollout" /out/modelrollout \
    && strip /out/modelrollout \
    && /out/modelrollout --help >/dev/null

FROM ${RUNTIME}
LABEL org.opencontainers.image.title="modelrollout" \
      org.opencontainers.image.description="Kubernetes operator for safe, fast model revisions of vLLM serving" \
      org.opencontainers.image.source="https://github.com/modelrollout/modelrollout"
COPY --from=build /out/modelrollout /usr/local/bin/modelrollout
# distroless "nonroot": uid/gid 65532, matching runAsUser in manifests/manager.yaml.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/modelrollout"]
CMD ["controller", "--leader-elect"]
