"""report: a dossier of YAML files -> a PDF briefing, an EPUB and a web page."""

__version__ = "0.1.0"
