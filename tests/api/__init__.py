"""The REST API over HTTP: every route, every error code a client can reach, and their exact shapes.

One module per part of the surface; inputs that once crashed the server are pinned in
test_crash_regressions, and test_openapi, test_fuzz and test_schemathesis (requests generated from
the document itself) hold replies to the published document.
"""
