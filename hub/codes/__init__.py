"""Issuer tooling: keys, signed passes for drills and local issuers, the signed trust list."""
