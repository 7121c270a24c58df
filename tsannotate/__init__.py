"""tsannotate: make PyTorch models scriptable by annotating their source."""

__version__ = "0.1.0"
__all__ = ["__version__"]
