"""pytest plugin hook module (fixtures for provider authors)."""
