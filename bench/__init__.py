"""The deadline-night benchmark: a script and the message generator it uses (not tests)."""
