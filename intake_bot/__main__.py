"""Allow ``python -m intake_bot``."""

from intake_bot.cli import main

if __name__ == "__main__":  # run, not imported
    main()
