"""Demo data for the virtual nursing home (虚拟养老院) of 常州市天宁区.

`generator.generate()` builds a deterministic, realistic data set (areas, facilities, households,
residents, contacts, devices with broker credentials, staff, shifts and demo users) as plain row
dicts without touching a database; `loader.load()` writes it to PostgreSQL in one transaction with
COPY; `python -m eldercare_platform.seed` does both from the command line.
"""
