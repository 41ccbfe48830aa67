"""partmatch online service: signals, fusion, decisions and the gRPC API."""
