"""passes domain."""
