"""One small client per external service, each with timeouts and typed results."""
