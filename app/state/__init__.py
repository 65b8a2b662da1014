"""Cross-page state only: the signed-in session, language, and the handler guard."""
