"""Reusable UI pieces: the app frame, navigation, form fields."""
