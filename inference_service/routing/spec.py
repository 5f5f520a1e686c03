"""The ``router`` service's declaration."""

from inference_service.model.task_type import TaskType
from inference_service.providers.schema import NoSecrets
from inference_service.providers.spec import ProviderSpec
from inference_service.routing.router import ROUTER_SERVICE, RouterProvider
from inference_service.routing.settings import RouterSettings

PROVIDER = ProviderSpec(
    name=ROUTER_SERVICE,
    provider=RouterProvider,
    service_settings={task_type: RouterSettings for task_type in TaskType},
    secrets=NoSecrets,
)
