# Container image of `scaleguard serve`, as config/manager deploys it.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /scaleguard ./cmd/scaleguard

FROM gcr.io/distroless/static:nonroot
COPY --from=build /scaleguard /scaleguard
USER 65532:65532
ENTRYPOINT ["/scaleguard"]
