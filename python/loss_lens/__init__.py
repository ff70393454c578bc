"""Loss Lens capture helper: hands the tensors of one loss call to the Loss Lens notebook panel.

    import loss_lens
    loss_lens.capture(input=logits, target=labels, loss=criterion)

    criterion = loss_lens.watch(nn.CrossEntropyLoss())   # in a script: captures the first call

NumPy is the only dependency. PyTorch, TensorFlow, JAX and NumPy arrays are accepted by duck typing
(``.detach().cpu().numpy()`` where it exists), so CUDA tensors and tensors that require grad work and
no framework is imported here. The capture is written as a folder (``manifest.json`` + one ``.npy`` per
tensor) and displayed as a Jupyter output of MIME type ``application/vnd.loss-lens.capture+json``
whose record holds the tensors inline (base64 ``.npy``), so the saved ``.ipynb`` is self-contained.
The record format is documented in ``docs/panel.md``; the Loss Lens extension runs this same file in
the kernel for its "Inspect loss" CodeLens, so both ways produce the same record.
"""

import base64
import datetime
import functools
import hashlib
import io
import json
import linecache
import math
import os
import sys
import uuid
import warnings

import numpy as np

__all__ = ["capture", "watch", "MIME_TYPE", "FORMAT", "VERSION", "DEFAULT_MAX_INLINE_BYTES"]

MIME_TYPE = "application/vnd.loss-lens.capture+json"
FORMAT = "loss-lens-capture"
VERSION = 1
# The inline copy in the notebook output is capped so that a capture never bloats an .ipynb by more
# than this; past it the batch is cut to its first rows (input and target alike) and the record says so.
DEFAULT_MAX_INLINE_BYTES = 8 * 1024 * 1024

# Loss classes and functions of PyTorch, keyed by the name the object carries.
_TORCH_LOSS_NAMES = {
    "CrossEntropyLoss": "cross_entropy",
    "cross_entropy": "cross_entropy",
    "NLLLoss": "nll_loss",
    "nll_loss": "nll_loss",
    "BCELoss": "binary_cross_entropy",
    "binary_cross_entropy": "binary_cross_entropy",
    "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits",
}

# Keras losses (class or function names) and the PyTorch loss that computes the same thing when the
# class axis is the last one of a 2-D input (the only layout the panel maps).
_KERAS_LOSS_NAMES = {
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "sparse_categorical_crossentropy": "sparse_categorical_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "categorical_crossentropy": "categorical_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
    "binary_crossentropy": "binary_crossentropy",
}

_DTYPE_NAMES = {
    "float16": "float16", "float32": "float32", "float64": "float64",
    "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
    "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
    "bool": "bool",
}

_OPTION_KEYS = ("weight", "pos_weight", "ignore_index", "label_smoothing", "reduction", "from_logits")


class CaptureError(ValueError):
    """A value that cannot be captured (not an array, unsupported dtype, unknown loss)."""


def capture(input, target, loss="cross_entropy", *, weight=None, pos_weight=None, ignore_index=None,
            label_smoothing=None, reduction=None, from_logits=None, folder=None, save=True, display=True,
            max_inline_bytes=DEFAULT_MAX_INLINE_BYTES, source=None):
    """Capture the tensors of one loss call for the Loss Lens panel.

    ``loss`` is a loss object (``nn.CrossEntropyLoss(weight=w)``), a loss function
    (``F.cross_entropy``), a Keras loss, or a name (``"cross_entropy"``); options are read from the
    object and can be given (or overridden) as keyword arguments. ``folder`` is where the capture
    folder goes (default: ``$LOSS_LENS_CAPTURE_DIR`` or ``.loss-lens/captures``); ``save=False`` writes
    nothing to disk. Returns the record (a dict) with ``"folder"`` set when it was written.
    """
    loss_name, framework, options = _describe_loss(loss)
    overrides = {"weight": weight, "pos_weight": pos_weight, "ignore_index": ignore_index,
                 "label_smoothing": label_smoothing, "reduction": reduction, "from_logits": from_logits}
    options.update({key: value for key, value in overrides.items() if value is not None})

    arrays = {"input": _to_numpy(input, "input"), "target": _to_numpy(target, "target")}
    tensor_info = {"input": _origin_of(input), "target": _origin_of(target)}
    for key, tensor_name in (("weight", "weight"), ("pos_weight", "posWeight")):
        value = options.pop(key, None)
        if value is not None:
            arrays[tensor_name] = _to_numpy(value, key)
            tensor_info[tensor_name] = _origin_of(value)

    record = {
        "format": FORMAT,
        "version": VERSION,
        "id": uuid.uuid4().hex,
        "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "loss": loss_name,
        "framework": framework,
        "options": _json_options(options),
        "source": _source_of(source),
        "tensors": {},
    }
    for name, array in arrays.items():
        record["tensors"][name] = dict(_describe_array(array), **tensor_info[name])

    if save:
        record["folder"] = _write_folder(record, arrays, folder)
    if display:
        _display(_inline_record(record, arrays, max_inline_bytes))
    return record


def watch(loss, *, every=None, folder=None, display=True, max_inline_bytes=DEFAULT_MAX_INLINE_BYTES):
    """Wrap a loss object or function so that its calls are captured with the caller's file and line.

    ``criterion = loss_lens.watch(nn.CrossEntropyLoss())`` or ``loss_fn = loss_lens.watch(F.cross_entropy)``.
    The first call is captured, or with ``every=N`` the calls 1, N+1, 2N+1, ...; each capture goes to the capture
    folder (``folder``, else ``$LOSS_LENS_CAPTURE_DIR``, else ``.loss-lens/captures``), where ``loss-lens check`` and
    the editor find it beside the script. The call's keyword options (``weight=``, ``reduction=``, ...) are captured
    too. A call that is not captured costs one counter test; a capture that fails warns and never stops training.
    """
    if every is not None and (not isinstance(every, int) or every < 1):
        raise ValueError("loss_lens.watch: every must be a positive integer")
    _describe_loss(loss)  # an unknown loss is reported now, not in the middle of training
    watcher = _Watcher(loss, every, {"folder": folder, "display": display, "max_inline_bytes": max_inline_bytes})
    if isinstance(loss, type(len)) or type(loss).__name__ == "function" or hasattr(loss, "func"):
        @functools.wraps(loss)
        def watched(*args, **kwargs):
            if watcher.due():
                watcher.capture(args, kwargs)
            return loss(*args, **kwargs)
        watched.loss_lens_watcher = watcher
        return watched
    return _WatchedLoss(loss, watcher)


class _Watcher:
    """Counts the calls of a watched loss and captures the due ones."""

    def __init__(self, loss, every, capture_options):
        self.loss = loss
        self.every = every
        self.capture_options = capture_options
        self.calls = 0
        self.captures = []

    def due(self):
        self.calls += 1
        if self.every is None:
            return self.calls == 1
        return (self.calls - 1) % self.every == 0

    def capture(self, args, kwargs):
        # Two frames up: the wrapper, then the code that called the loss.
        frame = sys._getframe(2)
        file_name = frame.f_code.co_filename
        line = frame.f_lineno
        source = {"file": os.path.abspath(file_name), "line": line - 1,
                  "lineText": linecache.getline(file_name, line).strip()}
        arguments = dict(zip(("input", "target"), args))
        options = {key: value for key, value in kwargs.items() if key in _OPTION_KEYS}
        try:
            record = capture(input=kwargs.get("input", arguments.get("input")),
                             target=kwargs.get("target", arguments.get("target")),
                             loss=self.loss, source=source, **options, **self.capture_options)
            self.captures.append(record)
        except Exception as error:  # noqa: BLE001 - a capture must never stop the training it watches
            warnings.warn("loss_lens.watch: the call at %s:%d was not captured: %s" % (file_name, line, error), stacklevel=3)


class _WatchedLoss:
    """A loss object whose due calls are captured; everything else goes to the loss itself."""

    def __init__(self, loss, watcher):
        self.__dict__["_loss"] = loss
        self.__dict__["loss_lens_watcher"] = watcher

    def __call__(self, *args, **kwargs):
        if self.loss_lens_watcher.due():
            self.loss_lens_watcher.capture(args, kwargs)
        return self._loss(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._loss, name)

    def __setattr__(self, name, value):
        setattr(self._loss, name, value)

    def __repr__(self):
        return "loss_lens.watch(%r)" % (self._loss,)


def _describe_loss(loss):
    """(canonical loss name, framework, options) for a loss object, function or name."""
    if isinstance(loss, str):
        name = loss
        obj = None
    else:
        obj = loss
        name = getattr(loss, "__name__", None) or type(loss).__name__
        # functools.partial(F.cross_entropy, ...) and similar wrappers
        if hasattr(loss, "func") and hasattr(loss, "keywords"):
            name = getattr(loss.func, "__name__", name)
    options = {}
    if name in _TORCH_LOSS_NAMES:
        if obj is not None:
            for key in ("weight", "pos_weight", "ignore_index", "label_smoothing", "reduction"):
                value = getattr(obj, key, None)
                if value is not None:
                    options[key] = value
            options.update(getattr(obj, "keywords", None) or {})
        return _TORCH_LOSS_NAMES[name], "pytorch", options
    if name in _KERAS_LOSS_NAMES:
        if obj is not None:
            config = obj.get_config() if hasattr(obj, "get_config") else {}
            for key in ("from_logits", "label_smoothing", "ignore_class"):
                if config.get(key) is not None:
                    options["ignore_index" if key == "ignore_class" else key] = config[key]
        return "keras:" + _KERAS_LOSS_NAMES[name], "keras", options
    raise CaptureError(
        "loss_lens.capture: unknown loss %r; pass a PyTorch loss (nn.CrossEntropyLoss(), F.cross_entropy, "
        "'cross_entropy', 'nll_loss', 'binary_cross_entropy', 'binary_cross_entropy_with_logits') or a Keras loss"
        % (name,))


def _to_numpy(value, what):
    """A C-contiguous, little-endian NumPy copy of a PyTorch/TensorFlow/JAX/NumPy array or a Python number list."""
    array = value
    if hasattr(array, "detach"):  # PyTorch: leave the autograd graph
        array = array.detach()
    if hasattr(array, "cpu") and not isinstance(array, np.ndarray):  # PyTorch on CUDA/MPS
        array = array.cpu()
    dtype_name = str(getattr(array, "dtype", ""))
    if dtype_name.endswith("bfloat16") and hasattr(array, "float"):
        array = array.float()  # NumPy has no bfloat16; float32 holds every bfloat16 value exactly
    if hasattr(array, "numpy") and not isinstance(array, np.ndarray):  # PyTorch, TensorFlow eager
        array = array.numpy()
    try:
        array = np.asarray(array)  # JAX arrays, lists, scalars
    except Exception as error:  # noqa: BLE001 - any conversion failure is reported the same way
        raise CaptureError("loss_lens.capture: %s is not an array (%s)" % (what, error)) from error
    if array.dtype.name == "bfloat16":  # ml_dtypes (JAX)
        array = array.astype(np.float32)
    if array.dtype == object:
        raise CaptureError("loss_lens.capture: %s is not a numeric array (got %s)" % (what, type(value).__name__))
    if array.dtype.name not in _DTYPE_NAMES:
        raise CaptureError("loss_lens.capture: %s has dtype %s, which Loss Lens does not read" % (what, array.dtype))
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    return np.ascontiguousarray(array)


def _origin_of(value):
    """What the tensor was before it became NumPy: framework, dtype, device, requires_grad."""
    module = type(value).__module__.split(".")[0]
    framework = {"torch": "pytorch", "tensorflow": "tensorflow", "jax": "jax", "jaxlib": "jax",
                 "numpy": "numpy"}.get(module, module)
    info = {"framework": framework}
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        # NumPy, JAX and TensorFlow dtypes have a .name ('float32'); PyTorch's print as 'torch.float32'.
        name = getattr(dtype, "name", None)
        info["originalDtype"] = name if isinstance(name, str) else str(dtype).replace("torch.", "")
    device = getattr(value, "device", None)
    if device is not None and not isinstance(value, np.ndarray):
        info["device"] = str(device)
    if getattr(value, "requires_grad", False):
        info["requiresGrad"] = True
    return info


def _describe_array(array):
    return {"dtype": _DTYPE_NAMES[array.dtype.name], "shape": [int(n) for n in array.shape]}


def _json_options(options):
    """Options as JSON values; tensors never land here (weight/pos_weight are tensors of the record)."""
    result = {}
    for key, value in options.items():
        if key not in _OPTION_KEYS:
            continue
        if isinstance(value, (bool, np.bool_)):
            result[_camel(key)] = bool(value)
        elif isinstance(value, (int, np.integer)):
            result[_camel(key)] = int(value)
        elif isinstance(value, (float, np.floating)):
            result[_camel(key)] = float(value)
        elif isinstance(value, str):
            result[_camel(key)] = value
    return result


def _camel(key):
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _source_of(source):
    """Where the capture comes from: the notebook and execution count the kernel knows, plus what the caller says."""
    result = {"via": "helper"}
    notebook = _kernel_global("__vsc_ipynb_file__")
    if notebook:
        result["notebook"] = str(notebook)
    shell = _ipython()
    if shell is not None and getattr(shell, "execution_count", None) is not None:
        result["executionCount"] = int(shell.execution_count)
    cell_text = _running_cell_text(shell)
    if cell_text is not None:
        # The cell that ran this: if its source differs later, the capture is stale (docs/panel.md).
        result["cellText"] = cell_text
    history = _code_history(shell)
    if history is not None:
        # The cells this kernel ran: if one of the cells above the capture differs later, the capture is stale.
        result["codeHashes"] = history
    if source:
        result.update(source)
    if "codeHashes" not in result and result.get("file"):
        # A script (loss_lens.watch): the capture describes this file's code as it is now.
        script = _code_hash("".join(linecache.getlines(result["file"])))
        if script is not None:
            result["codeHashes"] = [script]
    if "codeHashes" in result:
        # The project's own modules the code imported (model.py beside train.py): an edit to one, a softmax removed
        # from its forward, makes the capture stale too.
        roots = [os.getcwd()] + ([os.path.dirname(os.path.abspath(result["file"]))] if result.get("file") else [])
        modules = [digest for digest in _project_module_hashes(roots) if digest not in result["codeHashes"]]
        result["codeHashes"] = list(result["codeHashes"]) + modules
    return result


# At most this many project modules are fingerprinted per capture.
MAX_MODULE_HASHES = 500


def _project_module_hashes(roots):
    """The fingerprints of the imported modules whose source file lies under one of the roots (not installed packages)."""
    prefixes = tuple(os.path.join(os.path.realpath(root), "") for root in roots)
    hashes = []
    for module in list(sys.modules.values()):
        file_name = getattr(module, "__file__", None)
        if not isinstance(file_name, str) or not file_name.endswith(".py"):
            continue
        path = os.path.realpath(file_name)
        if not path.startswith(prefixes) or "site-packages" in path or "dist-packages" in path:
            continue
        try:
            with open(path, encoding="utf-8") as handle:
                digest = _code_hash(handle.read())
        except (OSError, UnicodeDecodeError):
            continue
        if digest is not None and digest not in hashes:
            hashes.append(digest)
            if len(hashes) == MAX_MODULE_HASHES:
                break
    return hashes


# At most this many cells of the kernel's history are fingerprinted (about 19 bytes each in the record): a longer
# session keeps its most recently run ones, and a cell run only before them makes the capture stale, which is safe.
MAX_CODE_HASHES = 1000


def _code_history(shell):
    """The fingerprints of the cells run in this IPython session, each once, in the order last run (the latest kept)."""
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if not history:
        return None
    latest = {}
    for cell in reversed(history):
        if len(latest) == MAX_CODE_HASHES:
            break
        digest = _code_hash(cell) if isinstance(cell, str) else None
        if digest is not None and digest not in latest:
            latest[digest] = True
    return list(reversed(list(latest)))


def _is_word_char(char):
    return char == "_" or ord(char) > 127 or (char.isascii() and char.isalnum())


def _normalise_code(code):
    """The code without comments and insignificant whitespace; the same rules as server/src/captures/fingerprint.ts.

    Outside string literals: ``#`` starts a comment; a run of spaces or tabs is dropped, or kept as one space between
    two word characters; a line's leading indentation is kept; empty lines are dropped. Strings are kept verbatim.
    """
    text = code.replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    line = []
    at_line_start = True
    quote = ""
    i = 0
    n = len(text)

    def flush():
        joined = "".join(line)
        if joined.strip() != "":
            lines.append(joined.rstrip())

    while i < n:
        char = text[i]
        if quote:
            if char == "\\":
                line.append(text[i:i + 2])
                i += 2
            elif text.startswith(quote, i):
                line.append(quote)
                i += len(quote)
                quote = ""
            else:
                line.append(char)
                i += 1
            continue
        if char == "\n":
            flush()
            line = []
            at_line_start = True
            i += 1
        elif char == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif char in " \t\f":
            end = i
            while end < n and text[end] in " \t\f":
                end += 1
            if at_line_start:
                line.append(text[i:end])
            elif line and line[-1] and _is_word_char(line[-1][-1]) and end < n and _is_word_char(text[end]):
                line.append(" ")
            i = end
        else:
            at_line_start = False
            if char in "'\"":
                quote = char * 3 if text.startswith(char * 3, i) else char
                line.append(quote)
                i += len(quote)
            else:
                line.append(char)
                i += 1
    flush()
    return "\n".join(lines)


def _code_hash(code):
    """The fingerprint of a piece of code (16 hex digits of SHA-256 of the normalised code); None when it holds no code."""
    normalised = _normalise_code(code)
    if normalised == "":
        return None
    return hashlib.sha256(normalised.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _running_cell_text(shell):
    """The source of the IPython cell being run (IPython stores it in its history before running it)."""
    history = getattr(getattr(shell, "history_manager", None), "input_hist_raw", None)
    if not history or not isinstance(history[-1], str):
        return None
    return history[-1]


def _ipython():
    try:
        from IPython import get_ipython  # noqa: PLC0415 - optional: plain Python has no IPython
    except ImportError:
        return None
    return get_ipython()


def _kernel_global(name):
    shell = _ipython()
    return shell.user_ns.get(name) if shell is not None else None


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write_folder(record, arrays, folder):
    root = folder or os.environ.get("LOSS_LENS_CAPTURE_DIR") or os.path.join(".loss-lens", "captures")
    target = os.path.abspath(os.path.join(root, record["id"]))
    os.makedirs(target, exist_ok=True)
    manifest = json.loads(json.dumps(record))
    for name, array in arrays.items():
        file_name = name + ".npy"
        with open(os.path.join(target, file_name), "wb") as handle:
            handle.write(_npy_bytes(array))
        manifest["tensors"][name]["file"] = file_name
    # Written last, atomically: a reader that sees manifest.json sees every tensor file.
    temporary = os.path.join(target, "manifest.json.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
    os.replace(temporary, os.path.join(target, "manifest.json"))
    return target


def _batch_rows_that_fit(arrays, max_inline_bytes):
    """How many leading rows of the batch fit the inline budget (None: all of them)."""
    total = sum(array.nbytes for array in arrays.values())
    if total <= max_inline_bytes:
        return None
    batched = [arrays[name] for name in ("input", "target") if arrays[name].ndim > 0]
    rows = min(array.shape[0] for array in batched) if batched else 0
    fixed = sum(array.nbytes for name, array in arrays.items() if name not in ("input", "target"))
    per_row = sum(array.nbytes / max(array.shape[0], 1) for array in batched)
    return max(0, min(rows, int(math.floor((max_inline_bytes - fixed) / per_row)) if per_row else rows))


def _inline_record(record, arrays, max_inline_bytes):
    """The record with the tensors inline as base64 .npy, cut to the first rows when past the budget."""
    inline = json.loads(json.dumps(record))
    rows = _batch_rows_that_fit(arrays, max_inline_bytes)
    for name, array in arrays.items():
        entry = inline["tensors"][name]
        if rows is not None and name in ("input", "target") and array.ndim > 0:
            entry["sampled"] = {"originalShape": [int(n) for n in array.shape], "rows": rows,
                                "reason": "the inline copy keeps the first %d rows (limit %d bytes)"
                                          % (rows, max_inline_bytes)}
            array = np.ascontiguousarray(array[:rows])
            entry["shape"] = [int(n) for n in array.shape]
        entry["data"] = base64.b64encode(_npy_bytes(array)).decode("ascii")
    return inline


def _summary(record):
    tensors = record["tensors"]
    shapes = ", ".join("%s %s %s" % (name, info["dtype"], list(info["shape"])) for name, info in tensors.items())
    return "Loss Lens capture: %s (%s)" % (record["loss"], shapes)


def _display(record):
    shell = _ipython()
    if shell is None:
        print(_summary(record))
        return
    from IPython.display import display  # noqa: PLC0415 - only inside IPython

    display({MIME_TYPE: record, "text/plain": _summary(record)}, raw=True)
