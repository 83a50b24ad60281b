"""Households and residents (老人): the people the platform serves, and who to call for them."""
