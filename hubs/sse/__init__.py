"""The SSE streaming process: pushes rebuilt widgets (and private stream entries) from
the backend to every browser showing them, one EventSource per tab."""
