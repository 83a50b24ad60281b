"""The eldercare platform service: REST API, operator console backend and the scheduler process.

Folder `platform/` is deliberately not a package (it would shadow the standard library's
`platform` module); this package lives inside it.
"""
