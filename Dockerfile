# syntax=docker/dockerfile:1
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/bridge ./cmd/bridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bridge /usr/local/bin/bridge
COPY configs/ /etc/sagebridge/
USER nonroot:nonroot
VOLUME ["/data"]
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/bridge"]
# Inside a container the listeners must leave loopback; put TLS in front.
CMD ["serve", "--config", "/etc/sagebridge/bridge.example.yaml", "--data", "/data", "--listen", "0.0.0.0:8080", "--admin-listen", "0.0.0.0:9090"]
