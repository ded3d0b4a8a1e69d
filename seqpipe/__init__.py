"""seqpipe: composable, scikit-learn compatible ML pipelines for signals and time series."""

__version__ = "0.2.0.dev0"

# first of all: the Keras backend (the user's choice, else JAX), before Keras is imported
import seqpipe._backend  # noqa: E402, F401, I001

from seqpipe.persistence import load, save  # noqa: E402
from seqpipe.pipeline import Pipeline, make_pipeline  # noqa: E402
from seqpipe.streaming import StreamingPredictor  # noqa: E402

__all__ = ["Pipeline", "StreamingPredictor", "make_pipeline", "save", "load", "__version__"]
