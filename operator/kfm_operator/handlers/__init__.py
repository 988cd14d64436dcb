"""handlers layer (see docs/architecture.md)."""
