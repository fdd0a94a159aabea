# The autoexposures worker, with the starter CLI beside it for health checks
# and one-off commands (docker compose exec worker starter status).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/worker ./worker \
 && CGO_ENABLED=0 go build -trimpath -o /out/starter ./starter

FROM alpine:3.21
# ca-certificates for Tableau Cloud over HTTPS; tzdata for schedule time zones
# shown by the starter.
RUN apk add --no-cache ca-certificates tzdata \
 && adduser -D -u 10001 autoexposures \
 && mkdir -p /var/lib/autoexposures /out \
 && chown autoexposures /var/lib/autoexposures /out
COPY --from=build /out/worker /out/starter /usr/local/bin/
USER autoexposures
ENV AUTOEXPOSURES_STATE_DIR=/var/lib/autoexposures \
    AUTOEXPOSURES_EXPOSURES_FILE=/out/tableau_exposures.yml
ENTRYPOINT ["/usr/local/bin/worker"]
