import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# lets scikit-learn's check_array_api_input run (with NumPy inputs) instead of skipping
os.environ.setdefault("SCIPY_ARRAY_API", "1")
