"""The ``router`` service: an endpoint that serves each request with one of its target
endpoints, failing over between them (see :mod:`inference_service.providers.router.provider`)."""

from inference_service.model.task_type import TaskType
from inference_service.providers.router.provider import ROUTER_SERVICE, RouterProvider
from inference_service.providers.router.settings import RouterSettings
from inference_service.providers.schema import NoSecrets
from inference_service.providers.spec import ProviderSpec

PROVIDER = ProviderSpec(
    name=ROUTER_SERVICE,
    provider=RouterProvider,
    service_settings={task_type: RouterSettings for task_type in TaskType},
    secrets=NoSecrets,
)
