"""Platform user accounts, roles and scopes, and the login flow."""
