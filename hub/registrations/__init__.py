"""Kiosk self-registrations: pending requests, and a grid worker's approval or rejection."""
