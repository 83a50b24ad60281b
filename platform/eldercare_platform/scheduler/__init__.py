"""The one scheduler process (APScheduler 3.11) and the idempotent job runner its jobs go through."""
