"""Device events as the gateway stored them, and the feedback an operator sends back to the device.

A minimal acknowledgment path until the alarm center (alarms, grouping, lifecycle) builds on it.
"""
