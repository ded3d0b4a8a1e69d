import os

# seqpipe before any test module imports Keras: the suite runs on the backend seqpipe
# chooses (JAX unless KERAS_BACKEND or keras.json says otherwise)
import seqpipe  # noqa: F401

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# lets scikit-learn's check_array_api_input run (with NumPy inputs) instead of skipping
os.environ.setdefault("SCIPY_ARRAY_API", "1")
