"""Decoders that turn frames into observations: QR codes, faces."""
