# authbff: a static, non-root image (~15 MB).
#   docker build -t authbff .
#   docker run -p 3000:3000 -v authbff-data:/data -e NEXTAUTH_SECRET=... -e COGNITO_CLIENT_ID=... -e COGNITO_CLIENT_SECRET=... -e COGNITO_DOMAIN=... authbff
# With no provider configured authbff runs its development IdP and then listens
# on the container's loopback only (unreachable from -p), and the IdP answers
# only loopback peers: to try it in Docker, let the bridge network in,
#   docker run -p 127.0.0.1:3000:3000 -v authbff-data:/data -e HOST=0.0.0.0 -e DEVIDP_ALLOW_CIDRS=172.16.0.0/12 authbff
# (authbff warns: anyone who reaches the port can sign in as a demo user).
# With NODE_ENV=production it refuses the development IdP unless AUTHBFF_DEV_IDP=1.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/authbff ./cmd/authbff \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/authbff /authbff
# The default bolt store, the dev secret, the dev IdP's keys and the learned
# issuer pins live here: a volume, so they outlive the container (mount one:
# docker run -v authbff-data:/data ...). Use SESSION_STORE=redis://... to
# share sessions between instances.
COPY --from=build --chown=nonroot:nonroot /out/data /data
VOLUME ["/data"]
ENV PORT=3000 AUTHBFF_DATA_DIR=/data LOG_FORMAT=json
USER nonroot:nonroot
EXPOSE 3000
ENTRYPOINT ["/authbff"]
CMD ["serve"]
