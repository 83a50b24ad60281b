"""Every table of the platform, imported in one place for Alembic and the seed generator."""

from eldercare_platform.areas.models import Area
from eldercare_platform.audit.models import AuditLog
from eldercare_platform.devices.models import Device, DeviceCredential
from eldercare_platform.facilities.models import CareCenter, Institution, MealPoint
from eldercare_platform.residents.models import EmergencyContact, Household, Resident
from eldercare_platform.roster.models import Shift, Staff
from eldercare_platform.scheduler.models import JobRun
from eldercare_platform.users.models import User

__all__ = [
    "Area",
    "AuditLog",
    "CareCenter",
    "Device",
    "DeviceCredential",
    "EmergencyContact",
    "Household",
    "Institution",
    "JobRun",
    "MealPoint",
    "Resident",
    "Shift",
    "Staff",
    "User",
]
