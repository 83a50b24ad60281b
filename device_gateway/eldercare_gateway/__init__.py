"""The device gateway: MQTT ingestion of device uplinks into PostgreSQL/TimescaleDB, in three lanes."""
