"""System status: health of the platform's components and headline counts."""
