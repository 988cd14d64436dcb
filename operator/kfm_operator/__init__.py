"""KFM Dataset Operator: governs datasets as kfm.dev/v1alpha1 custom resources."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("kfm-operator")
except _metadata.PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
