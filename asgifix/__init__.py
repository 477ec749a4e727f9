"""asgifix: find and fix what breaks Django/Channels projects when asgiref moves."""

__version__ = "0.1.0"
