"""The Elasticsearch face's route table; it reads like the REST spec.

Literal segments (``_all``, ``_usage``, ``_services``, ``_update``, ``_stream``) come before the
``{task_type}/{id}`` forms, the streams first of all, and endpoint ids never match an action name
(:mod:`inference_service.api.routing`).
Each method names the Elasticsearch action it performs, which decides the role it needs.
"""

from __future__ import annotations

from inference_service.api.es.endpoints import delete_endpoint, get_endpoints, put_endpoint, update_endpoint
from inference_service.api.es.inference import perform_inference, stream_inference
from inference_service.api.es.info import root_info
from inference_service.api.es.security import authenticate, create_api_key, get_api_keys, invalidate_api_keys
from inference_service.api.es.services import get_services
from inference_service.api.es.usage import get_usage
from inference_service.api.health import live, ready
from inference_service.api.openapi.document import openapi_document
from inference_service.api.operations import metrics
from inference_service.api.routing import resource
from inference_service.auth.roles import (
    AUTHENTICATE,
    CREATE_API_KEY,
    DELETE_ENDPOINT,
    GET_API_KEYS,
    GET_ENDPOINTS,
    GET_SERVICES,
    INFER,
    INVALIDATE_API_KEYS,
    PUT_ENDPOINT,
    READ_METRICS,
    READ_USAGE,
    UPDATE_ENDPOINT,
)

ID = "{inference_id:endpoint_id}"
TASK = "{task_type:endpoint_id}"

ROUTES = [
    # The streams first: every request walks this list until a route matches (endpoint ids
    # never match ``_stream``, so nothing below could have taken these paths).
    resource(f"/_inference/{ID}/_stream", POST=(stream_inference, INFER)),
    resource(f"/_inference/{TASK}/{ID}/_stream", POST=(stream_inference, INFER)),
    resource("/", GET=(root_info, None)),
    resource("/metrics", GET=(metrics, READ_METRICS)),
    resource("/openapi.json", GET=(openapi_document, None)),
    resource("/_health/live", GET=(live, None)),
    resource("/_health/ready", GET=(ready, None)),
    resource("/_inference", GET=(get_endpoints, GET_ENDPOINTS)),
    resource("/_inference/_all", GET=(get_endpoints, GET_ENDPOINTS)),
    resource("/_inference/_usage", GET=(get_usage, READ_USAGE)),
    resource("/_inference/_services", GET=(get_services, GET_SERVICES)),
    resource("/_inference/_services/{task_type}", GET=(get_services, GET_SERVICES)),
    resource(f"/_inference/{ID}/_update", PUT=(update_endpoint, UPDATE_ENDPOINT)),
    resource(f"/_inference/{TASK}/{ID}/_update", PUT=(update_endpoint, UPDATE_ENDPOINT)),
    resource(
        f"/_inference/{ID}",
        GET=(get_endpoints, GET_ENDPOINTS),
        PUT=(put_endpoint, PUT_ENDPOINT),
        DELETE=(delete_endpoint, DELETE_ENDPOINT),
        POST=(perform_inference, INFER),
    ),
    resource(
        f"/_inference/{TASK}/{ID}",
        GET=(get_endpoints, GET_ENDPOINTS),
        PUT=(put_endpoint, PUT_ENDPOINT),
        DELETE=(delete_endpoint, DELETE_ENDPOINT),
        POST=(perform_inference, INFER),
    ),
    resource(
        "/_security/api_key",
        PUT=(create_api_key, CREATE_API_KEY),
        POST=(create_api_key, CREATE_API_KEY),
        GET=(get_api_keys, GET_API_KEYS),
        DELETE=(invalidate_api_keys, INVALIDATE_API_KEYS),
    ),
    resource("/_security/_authenticate", GET=(authenticate, AUTHENTICATE)),
]
