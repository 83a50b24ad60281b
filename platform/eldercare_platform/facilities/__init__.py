"""Places that serve residents: care centers, meal points and institutions."""
