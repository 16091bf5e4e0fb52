# The interlock image: one static binary that runs as the node agent (the
# DaemonSet: `node`) and as the control plane (the Deployment: `control`).
# The BPF objects and the protobuf code are generated and committed, so
# the build needs only Go. Build: make image (docker or podman).

FROM docker.io/library/golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-X github.com/interlockhq/interlock/internal/version.Version=${VERSION}" \
      -o /out/interlock ./cmd/interlock

# Static binary, no shell: the node agent's privileges come from the
# DaemonSet's securityContext (capabilities, host PID), the control
# plane's from the Deployment's (non-root).
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/interlock /usr/local/bin/interlock
ENTRYPOINT ["/usr/local/bin/interlock"]
