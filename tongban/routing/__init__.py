"""Routing residents' requests (诉求) to a category: a text classifier, side module.

Pure Python + jieba + scikit-learn + numpy + joblib; nothing here imports Django. The
services layer loads a trained model (``Router.load``) and asks it for a category and a
confidence; ``Router.threshold`` says from which confidence a request is routed without a
dispatcher. ``train.train`` builds the model from ``../shared/data/requests``.
"""

from tongban.routing.data import LABELS, DataError, Example, read_tsv
from tongban.routing.model import BaselineRouter, ModelError, Router, baseline

__all__ = [
    "LABELS",
    "BaselineRouter",
    "DataError",
    "Example",
    "ModelError",
    "Router",
    "baseline",
    "read_tsv",
]
