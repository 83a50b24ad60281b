"""Code shared by every process of the eldercare platform: settings, logging, health and metrics."""
