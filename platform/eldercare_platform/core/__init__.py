"""Cross-cutting pieces of the platform: configuration, database sessions, security, dependencies."""
