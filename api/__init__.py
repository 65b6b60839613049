"""The FastAPI agent service (SPEC "HTTP API")."""
