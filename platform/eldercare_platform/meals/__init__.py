"""meals domain."""
