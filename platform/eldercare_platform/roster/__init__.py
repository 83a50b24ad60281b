"""Staff (护理员, 社工, 民政协管员, volunteers) and their shifts."""
