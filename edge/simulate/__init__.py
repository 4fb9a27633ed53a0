"""A simulated gate: generated camera frames of people showing faces, passes and door plates."""
