"""Domain services: plain functions with keyword-only arguments; no HTTP, no FastAPI."""
