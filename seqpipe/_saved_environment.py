"""What an artifact records of the environment that saved it, and the warnings when it
is loaded in another.

A header records the versions of seqpipe, Python, NumPy, scikit-learn and joblib always,
of Keras and its backend's library (TensorFlow, JAX, PyTorch) only when already
imported (saving never imports them), and Keras' backend. :func:`seqpipe.load` warns
once per library among seqpipe, scikit-learn, Keras, TensorFlow, JAX and PyTorch whose
version differs from the running one (:class:`InconsistentVersionWarning`), and once
if the backend differs (:class:`InconsistentBackendWarning`). The warnings are
``seqpipe.persistence``'s public names.
"""

from __future__ import annotations

import platform
import sys
import warnings
from importlib import metadata

# Libraries an artifact records: header name -> (module name, distribution names).
_LIBRARIES = {
    "seqpipe": ("seqpipe", ("seqpipe",)),
    "numpy": ("numpy", ("numpy",)),
    "scikit-learn": ("sklearn", ("scikit-learn",)),
    "joblib": ("joblib", ("joblib",)),
    "keras": ("keras", ("keras",)),
    "tensorflow": ("tensorflow", ("tensorflow", "tensorflow-cpu", "tensorflow-macos",
                                  "tensorflow-intel")),
    "jax": ("jax", ("jax",)),
    "torch": ("torch", ("torch",)),
}
# never imported just to read a version
_RECORDED_IF_IMPORTED = ("keras", "tensorflow", "jax", "torch")
_CHECKED_ON_LOAD = ("seqpipe", "scikit-learn", "keras", "tensorflow", "jax", "torch")


class InconsistentVersionWarning(UserWarning):
    """An artifact was saved with another version of a library than the running one.

    Emitted by :func:`load`, once per differing library among seqpipe, scikit-learn, Keras
    and TensorFlow, after the file is verified and before it is unpickled. Modelled on
    :class:`sklearn.exceptions.InconsistentVersionWarning`, but not a subclass of it: that
    one is about one scikit-learn estimator, and silencing it should not silence a Keras
    or seqpipe mismatch. Unpickling scikit-learn estimators saved with another
    scikit-learn still emits scikit-learn's own warning as well.

    Parameters
    ----------
    library : str
        Distribution name of the library, e.g. ``"scikit-learn"``.
    saved_version : str
        Its version recorded in the artifact's header.
    current_version : str
        Its version in the running process.
    path : str, default=""
        The artifact being loaded.

    Attributes
    ----------
    library, saved_version, current_version, path : str
        The parameters.

    Examples
    --------
    >>> from seqpipe.persistence import InconsistentVersionWarning
    >>> print(InconsistentVersionWarning("scikit-learn", "1.5.2", "1.6.1", "m.seqpipe"))
    m.seqpipe was saved with scikit-learn 1.5.2 and is loaded with scikit-learn 1.6.1. ...

    To load such a file silently, filter the warning:
    ``warnings.filterwarnings("ignore", category=InconsistentVersionWarning)``.
    """

    def __init__(self, library: str, saved_version: str, current_version: str,
                 path: str = "") -> None:
        super().__init__(library, saved_version, current_version, path)  # args: picklable
        self.library = library
        self.saved_version = saved_version
        self.current_version = current_version
        self.path = path

    def __str__(self) -> str:
        return (f"{self.path or 'the artifact'} was saved with {self.library} "
                f"{self.saved_version} and is loaded with {self.library} "
                f"{self.current_version}. This might lead to breaking code or invalid "
                "results; once it loads and predicts correctly, save it again to record "
                "the running versions.")


class InconsistentBackendWarning(UserWarning):
    """An artifact was saved on another Keras backend than the one this process runs on.

    Emitted once by :func:`load`, after the file is verified and before it is
    unpickled, when the header records the backend (``keras_backend``: artifacts saved
    once Keras was imported) and it differs. The Keras models in it are rebuilt on the
    running backend from their weights: they predict the same within float32 rounding,
    not bitwise.

    Parameters
    ----------
    saved_backend, current_backend : str
        Keras' backend at save, and in the running process.
    path : str, default=""
        The artifact being loaded.

    Examples
    --------
    >>> from seqpipe.persistence import InconsistentBackendWarning
    >>> print(InconsistentBackendWarning("jax", "tensorflow", "m.seqpipe"))
    m.seqpipe was saved on Keras' jax backend and is loaded on its tensorflow backend. ...
    """

    def __init__(self, saved_backend: str, current_backend: str, path: str = "") -> None:
        super().__init__(saved_backend, current_backend, path)  # args: picklable
        self.saved_backend = saved_backend
        self.current_backend = current_backend
        self.path = path

    def __str__(self) -> str:
        return (f"{self.path or 'the artifact'} was saved on Keras' {self.saved_backend} "
                f"backend and is loaded on its {self.current_backend} backend. Its models "
                f"predict the same within float32 rounding, not bitwise; run with "
                f"KERAS_BACKEND={self.saved_backend} for bitwise the same predictions.")


def _library_versions() -> dict[str, str]:
    """Versions to record in a header; Keras and TensorFlow only if already imported."""
    versions = {"python": platform.python_version()}
    for library, (module, _) in _LIBRARIES.items():
        if library in _RECORDED_IF_IMPORTED and module not in sys.modules:
            continue
        versions[library] = _running_version(library) or "unknown"
    return versions


def _running_version(library: str) -> str | None:
    """The version of ``library`` in this process: its module's ``__version__`` if it is
    imported, else its installed distribution's (importing nothing); None if not found."""
    module, dists = _LIBRARIES[library]
    version = getattr(sys.modules.get(module), "__version__", None)
    if isinstance(version, str):
        return version
    for dist in dists:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def _warn_on_version_mismatch(name: str, saved: dict[str, str]) -> None:
    """Warn once per checked library whose recorded version differs from the running one.

    Libraries the header does not record, or records as "unknown", are not compared; nor
    are those whose running version cannot be found (unpickling then says what is
    missing)."""
    for library in _CHECKED_ON_LOAD:
        saved_version = saved.get(library, "unknown")
        current = _running_version(library)
        if saved_version != "unknown" and current is not None and current != saved_version:
            warnings.warn(InconsistentVersionWarning(library, saved_version, current, name),
                          stacklevel=3)
