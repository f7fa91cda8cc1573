# syntax=docker/dockerfile:1
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/bridge ./cmd/bridge
# distroless has no shell to make the data directory: it is made here, and
# owned by nonroot in the image, so that a new volume on it is writable.
RUN mkdir /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bridge /usr/local/bin/bridge
COPY --from=build --chown=65532:65532 /out/data /data
COPY configs/ /etc/sagebridge/
USER nonroot:nonroot
VOLUME ["/data"]
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/bridge"]
# Mount your configuration at /etc/sagebridge/bridge.yaml (the example beside
# it documents every field; policies/ holds the ABAC templates). Inside a
# container the listeners must leave loopback: give the config a tls section
# or put TLS in front.
CMD ["serve", "--config", "/etc/sagebridge/bridge.yaml", "--data", "/data", "--listen", "0.0.0.0:8080", "--admin-listen", "0.0.0.0:9090"]
