"""intake-bot: e-mail driven intake of job applications."""

__version__ = "0.1.0"
