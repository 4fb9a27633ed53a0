"""Health-code verification: one verifier per format, a trust store and the site's policy."""
