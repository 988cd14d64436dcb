"""observability layer (see docs/architecture.md)."""
