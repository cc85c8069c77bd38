# authbff: a static, non-root image (~15 MB).
#   docker build -t authbff .
#   docker run -p 3000:3000 -e NEXTAUTH_SECRET=$(openssl rand -base64 32) authbff
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/authbff ./api \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authbff /authbff
# The default bolt store and the dev secret live here; use SESSION_STORE=redis://...
# to share sessions between instances.
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV PORT=3000 AUTHBFF_DATA_DIR=/data LOG_FORMAT=json
USER nonroot:nonroot
EXPOSE 3000
ENTRYPOINT ["/authbff"]
CMD ["serve"]
