# The ModelRollout operator image: `docker build -t ghcr.io/modelrollout/modelrollout:TAG .`
#
# Stage 1 builds a release binary with the Swift standard library and Foundation linked statically
# (--static-swift-stdlib). Its remaining shared libraries (ldd of such a build: libc, libm, libstdc++, libgcc_s,
# libz) are distroless/cc's, plus libz.so.1, which is copied from the builder to be sure: /lib is on the
# runtime loader's default search path.
# The builder is Ubuntu 22.04 (glibc 2.35), older than the runtime's Debian 12 (glibc 2.36), so the binary's
# glibc symbol versions all exist at run time. The release build with --static-swift-stdlib was verified with
# Swift 6.3.1 on Linux (no Docker daemon there: the image itself was not built); --build-arg SWIFT_VERSION=… to change.
ARG SWIFT_VERSION=6.3
ARG BUILDER=swift:${SWIFT_VERSION}-jammy
ARG RUNTIME=gcr.io/distroless/cc-debian12:nonroot

FROM ${BUILDER} AS build
WORKDIR /src
# Dependencies first, so they stay cached while only Sources/ changes (Package.resolved is not in git: resolved here).
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product modelrollout \
    && install -D "$(swift build -c release --show-bin-path)/modelrollout" /out/modelrollout \
    && strip /out/modelrollout \
    && /out/modelrollout --help >/dev/null \
    && mkdir -p /out/lib \
    && cp -L "$(ldconfig -p | awk '/libz\.so\.1 / {print $NF; exit}')" /out/lib/libz.so.1

FROM ${RUNTIME}
LABEL org.opencontainers.image.title="modelrollout" \
      org.opencontainers.image.description="Kubernetes operator for safe, fast model revisions of vLLM serving" \
      org.opencontainers.image.source="https://github.com/modelrollout/modelrollout"
COPY --from=build /out/lib/libz.so.1 /lib/libz.so.1
COPY --from=build /out/modelrollout /usr/local/bin/modelrollout
# distroless "nonroot": uid/gid 65532, matching runAsUser in manifests/manager.yaml.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/modelrollout"]
CMD ["controller", "--leader-elect"]
