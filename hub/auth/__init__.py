"""Logins, roles and tokens for the hub's HTTP API (OAuth2 password flow with JWT)."""
