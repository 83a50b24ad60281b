"""The alarm center (告警中心): alarms from device events, their lifecycle, escalation, and the live queue."""
