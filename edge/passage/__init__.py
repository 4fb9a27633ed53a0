"""Passage: observations at one gate within a short window become one event and a decision."""
