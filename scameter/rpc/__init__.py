"""The gRPC service (proto package ``scameter.v1``): servicer, server, client."""
