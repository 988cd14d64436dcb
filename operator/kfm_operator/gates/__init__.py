"""gates layer (see docs/architecture.md)."""
