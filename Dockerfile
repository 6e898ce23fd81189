# syntax=docker/dockerfile:1

# Build: a static binary of certd and certctl.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/certd ./cmd/certd \
 && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/certctl ./cmd/certctl
# The CJK TrueType font the certificate PDFs are set in.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-arphic-gbsn00lp \
 && mkdir -p /out/data

# Run: no shell, no package manager, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf /usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf
COPY --from=build /out/certd /out/certctl /usr/local/bin/
COPY --from=build --chown=nonroot:nonroot /out/data /data
USER nonroot:nonroot
WORKDIR /data
ENV CERTD_ADDR=:8080 \
    CERTD_DATA_DIR=/data \
    CERTD_LOG_FORMAT=json \
    CERTD_PDF_FONT=/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/certd"]
