"""Đồng Hành: the Reflex application package."""
