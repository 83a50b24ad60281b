"""The test suite: unit tests of pure logic, and integration tests on real PostgreSQL, Mosquitto and Chromium."""
