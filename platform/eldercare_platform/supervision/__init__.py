"""supervision domain: the figures of a tier (city, district, street, community, institution) for supervisors."""
