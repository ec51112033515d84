"""verify domain."""
