"""``python -m inference_service``: the same command as ``inference-service``."""

import sys

from inference_service.cli import main

sys.exit(main())
