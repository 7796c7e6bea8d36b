"""svcmetrics: the seven community-service indicators, computed from service logs."""

__version__ = "0.1.0"

__all__ = ["__version__"]
