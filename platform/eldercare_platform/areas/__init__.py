"""Administrative areas (行政区划): district → street → community."""
