"""The ``splade`` service: SPLADE sparse embeddings computed in this process with numpy (the
``local`` extra and the bundled SPLADE-tiny model, or a model directory of your own)."""

from inference_service.model.task_type import TaskType
from inference_service.providers.schema import NoSecrets
from inference_service.providers.spec import ProviderSpec
from inference_service.providers.splade.provider import SpladeProvider
from inference_service.providers.splade.settings import SpladeServiceSettings

PROVIDER = ProviderSpec(
    name="splade",
    provider=SpladeProvider,
    service_settings={TaskType.SPARSE_EMBEDDING: SpladeServiceSettings},
    secrets=NoSecrets,
)
