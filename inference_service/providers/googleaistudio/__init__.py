"""The ``googleaistudio`` service: Gemini API text embeddings (``batchEmbedContents``)."""

from inference_service.model.task_type import TaskType
from inference_service.providers.googleaistudio.provider import GoogleAiStudioProvider
from inference_service.providers.googleaistudio.settings import GoogleAiStudioEmbeddingServiceSettings
from inference_service.providers.schema import ApiKeySecrets
from inference_service.providers.spec import ProviderSpec

__all__ = ["PROVIDER", "GoogleAiStudioProvider"]

PROVIDER = ProviderSpec(
    name="googleaistudio",
    provider=GoogleAiStudioProvider,
    service_settings={TaskType.TEXT_EMBEDDING: GoogleAiStudioEmbeddingServiceSettings},
    secrets=ApiKeySecrets,
    default_rate_limit={TaskType.TEXT_EMBEDDING: 360},
)
