"""The one thing pyproject.toml cannot say: ship ``migrations/`` and ``config/`` inside the package.

Both stay top-level directories in the source tree, the one copy (alembic and developers use
them in place). ``package_dir`` maps them to ``inference_service._migrations`` and
``inference_service._config``, which the service finds with ``importlib.resources`` (see
``inference_service/resources.py``), in a wheel and in an editable install alike. pyproject.toml
can either discover packages or list them, not both; discovering here and adding the two
mapped packages means a new sub-package of ``inference_service`` is never left out of the wheel.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["inference_service", "inference_service.*"]),
        "inference_service._migrations",
        "inference_service._migrations.versions",
        "inference_service._config",
    ],
    package_dir={
        "inference_service._migrations": "migrations",
        "inference_service._config": "config",
    },
    package_data={
        "inference_service": ["py.typed"],  # type information for the SDK (inference_service.client)
        "inference_service._migrations": ["script.py.mako"],
        "inference_service._config": ["*.toml"],
        # The admin page (/_ui/): its static files, vendored libraries included.
        "inference_service.ui": ["static/*.*", "static/js/*.js", "static/vendor/*/*"],
    },
)
