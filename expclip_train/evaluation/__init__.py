"""Evaluation reports (commands that print figures)."""
