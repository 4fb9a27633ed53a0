"""Alerts: drafts from the rules merged into one active alert per person and rule."""
