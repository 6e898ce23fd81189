# syntax=docker/dockerfile:1

# Build: a static binary of certd and certctl.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/certd ./cmd/certd \
 && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/certctl ./cmd/certctl
# The TrueType fonts the certificate PDFs are set in, in fallback order: a
# Latin face, simplified and traditional Chinese faces, a CJK fallback.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      fonts-liberation2 fonts-arphic-gbsn00lp fonts-arphic-bsmi00lp fonts-droid-fallback \
 && mkdir -p /out/data

# Run: no shell, no package manager, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf
COPY --from=build /usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf /usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf
COPY --from=build /usr/share/fonts/truetype/arphic-bsmi00lp/bsmi00lp.ttf /usr/share/fonts/truetype/arphic-bsmi00lp/bsmi00lp.ttf
COPY --from=build /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
COPY --from=build /out/certd /out/certctl /usr/local/bin/
COPY --from=build --chown=nonroot:nonroot /out/data /data
USER nonroot:nonroot
WORKDIR /data
ENV CERTD_ADDR=:8080 \
    CERTD_DATA_DIR=/data \
    CERTD_LOG_FORMAT=json \
    CERTD_PDF_FONT=/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf:/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf:/usr/share/fonts/truetype/arphic-bsmi00lp/bsmi00lp.ttf:/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/certd"]
