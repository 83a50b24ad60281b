"""The audit trail: who read or changed personal data, and when (全程留痕)."""
