"""stores layer (see docs/architecture.md)."""
