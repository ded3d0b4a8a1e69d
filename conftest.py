"""Collection of seqpipe's own modules (for their doctests): the PyTorch backend's module
imports torch, which the dev install leaves out."""

import importlib.util

collect_ignore = ([] if importlib.util.find_spec("torch") is not None
                  else ["seqpipe/_backends/torch_backend.py"])
