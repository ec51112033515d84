"""Offline records: visits, reviews, complaints, training sessions and attendance."""
