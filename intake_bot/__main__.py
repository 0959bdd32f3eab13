"""Allow ``python -m intake_bot``."""

from intake_bot.cli import main

main()
