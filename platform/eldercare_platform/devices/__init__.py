"""Devices: home alarm units, sensors and care-center terminals, and their MQTT credentials."""
