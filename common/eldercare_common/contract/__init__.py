"""The device contract: what the gateway, the platform and the simulators agree on, and nothing else.

* `v1`: device protocol v1, the MQTT topics (`eldercare/v1/dev/<serial>/up|down/<channel>`), the
  uplink payload models and the downlink (feedback, config, command) models. A device speaks it.
* `outbox`: the database half, how the gateway hands stored device events to the platform and how
  the platform queues downlinks: the `outbox` table's topics and row shapes, and the PostgreSQL
  NOTIFY channels that wake the platform's listeners (`eldercare_platform.core.listen`).

Every side imports the contract from here; no side imports another (the import-linter contracts in
pyproject.toml hold that). The contract imports nothing of the project but itself.
"""
