"""care_plans domain."""
