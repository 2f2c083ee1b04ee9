"""newswatch: keeps a topic's news corpus current and alerts when the story moves."""

__version__ = "0.1.0"
