"""Kiosk mode: self-registration at a kiosk screen (door plate, pass, consent, face)."""
