"""Shared helpers for the test suite (servers, fixtures' building blocks)."""
