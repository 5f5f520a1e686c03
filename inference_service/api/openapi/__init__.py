"""The OpenAPI 3.1 document of the service (``GET /openapi.json``), generated from the routes
and the msgspec Structs: :mod:`.document` builds it, :mod:`.operations` says what each route
takes and answers, :mod:`.wire` describes the answers, :mod:`.providers` the PUT bodies."""
