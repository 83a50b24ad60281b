"""Tests: timescale_tests."""
