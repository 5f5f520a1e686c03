"""The Elasticsearch face's route table; it reads like the REST spec.

Literal segments (``_all``, ``_update``, ``_stream``) come before the ``{task_type}/{id}``
forms, and endpoint ids never match an action name (:mod:`inference_service.api.routing`).
"""

from __future__ import annotations

from inference_service.api.es.endpoints import delete_endpoint, get_endpoints, put_endpoint, update_endpoint
from inference_service.api.es.inference import perform_inference, stream_inference
from inference_service.api.es.info import root_info
from inference_service.api.routing import resource

ID = "{inference_id:endpoint_id}"
TASK = "{task_type:endpoint_id}"

ROUTES = [
    resource("/", GET=root_info),
    resource("/_inference", GET=get_endpoints),
    resource("/_inference/_all", GET=get_endpoints),
    resource(f"/_inference/{ID}/_update", PUT=update_endpoint),
    resource(f"/_inference/{ID}/_stream", POST=stream_inference),
    resource(f"/_inference/{TASK}/{ID}/_update", PUT=update_endpoint),
    resource(f"/_inference/{TASK}/{ID}/_stream", POST=stream_inference),
    resource(
        f"/_inference/{ID}",
        GET=get_endpoints,
        PUT=put_endpoint,
        DELETE=delete_endpoint,
        POST=perform_inference,
    ),
    resource(
        f"/_inference/{TASK}/{ID}",
        GET=get_endpoints,
        PUT=put_endpoint,
        DELETE=delete_endpoint,
        POST=perform_inference,
    ),
]
