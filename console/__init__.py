"""The staff review console: a small server-rendered web app over the Review gRPC API."""
