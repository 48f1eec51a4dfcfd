"""The API contract in code: request models that check what a request may carry, reply models
that describe what it gets, and the operation each route declares; document.py generates the
OpenAPI document from them (api/openapi.json holds its output, and a test keeps the two equal)."""
