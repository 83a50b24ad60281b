"""The gateway's three lanes: alarm (events), telemetry, and status (heartbeats, online/offline).

Each lane has its own MQTT session, subscription, writer thread and database connection, so an
alarm never waits behind telemetry.
"""
