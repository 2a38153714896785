"""spotflow from Python: run a recipe, get its tables as pandas DataFrames
and its tensors as numpy arrays.

    import spotflow
    r = spotflow.run("examples/recipes/classical.json",
                     inputs={"movie": "movie.tif"}, params={"detect.threshold": 4})
    r.tables["link.tracks"]          # a pandas DataFrame
    r.tensors                        # {"node.port": numpy array}
    r.out, r.run_json                # the output folder and its run.json

The run goes through the same code as `spotflow run` (the CLI's own run
function, linked into the native module), with the GIL released. Errors are
raised as spotflow.Error with the CLI's one-line message.
"""
import json
import os
import shutil
import sys
import tempfile

from . import _paths

_HERE = os.path.dirname(os.path.abspath(__file__))
_BUNDLED = os.path.normpath(os.path.join(_HERE, _paths.PLUGIN_RELDIR))
# The bundled plugins: the host looks next to the executable (python3 here,
# so nothing) and then in SPOTFLOW_PLUGIN_PATH; ours go first.
_old = os.environ.get("SPOTFLOW_PLUGIN_PATH", "")
if _BUNDLED not in _old.split(":"):
    os.environ["SPOTFLOW_PLUGIN_PATH"] = _BUNDLED + (":" + _old if _old else "")
# As the CLI does: LibTorch's OpenMP threads must not spin on a shared machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import _spotflow  # noqa: E402

Error = _spotflow.Error

__all__ = ["run", "plugins", "describe", "Error", "Result", "table_to_dataframe"]


def plugins():
    """Every plugin found: a list of dicts (id, version, kind, summary, ports, params defaults)."""
    return _spotflow.plugins()["plugins"]


def describe(plugin_id):
    """One plugin in detail, with its params JSON Schema; raises Error for an unknown id."""
    return _spotflow.describe(plugin_id)


def table_to_dataframe(columns, rows):
    """A DataFrame over the captured columns without copying the numeric ones.

    Float and int columns are numpy arrays over the host's buffers and become
    the DataFrame's columns as they are (pandas keeps one block per column:
    no consolidation copy); an int column with nulls becomes pandas' nullable
    Int64 over the same values and mask; strings are Python objects (a copy:
    numpy has no zero-copy view of Arrow's utf8)."""
    import numpy as np
    import pandas as pd

    data = {}
    for name, values, mask in columns:
        if mask is not None:
            if values.dtype == np.bool_:
                values = pd.arrays.BooleanArray(values, mask)
            else:
                values = pd.arrays.IntegerArray(values, mask)
        elif isinstance(values, list):
            values = np.array(values, dtype=object)
        data[name] = values
    if not data:
        return pd.DataFrame(index=pd.RangeIndex(rows))
    return _frame_without_copy(data, rows)


def _frame_without_copy(data, rows):
    import pandas as pd

    # pandas >= 1.3: a dict of arrays with copy=False keeps each array as
    # its own block, so the frame's columns are views of ours.
    return pd.DataFrame(data, index=pd.RangeIndex(rows), copy=False)


class Result:
    """What spotflow.run returns.

    tables:  {"node.port": pandas.DataFrame} for every table output port of
             every node that emitted on it (batches of a stream concatenated)
    tensors: {"node.port": numpy.ndarray} for every tensor port no edge
             consumes (and those asked for with tensors=[...]), the stream's
             packets stacked along the first axis, through DLPack
    out:     the output folder (a temporary one is removed when the Result
             is garbage-collected, unless keep() was called)
    run_json: the run's run.json as a dict
    """

    def __init__(self, out, tables, tensors, temporary):
        self.out = out
        self.tables = tables
        self.tensors = tensors
        self._temporary = temporary
        with open(os.path.join(out, "run.json")) as f:
            self.run_json = json.load(f)

    @property
    def files(self):
        """The output files of the run, as paths."""
        return [os.path.join(self.out, name) for name in self.run_json.get("outputs", [])]

    def keep(self):
        """Keep a temporary output folder after the Result goes."""
        self._temporary = False
        return self.out

    def __del__(self):
        if getattr(self, "_temporary", False):
            shutil.rmtree(self.out, ignore_errors=True)

    def __repr__(self):
        return "Result(out={!r}, tables={}, tensors={})".format(
            self.out, {k: len(v) for k, v in self.tables.items()},
            {k: tuple(v.shape) for k, v in self.tensors.items()})


def _tensor_to_numpy(t):
    import numpy as np

    # numpy >= 1.22 has from_dlpack (Debian 12: 1.24); older numpy would
    # need the buffer protocol, which this package does not provide.
    return np.from_dlpack(t)


def _set_args(params):
    out = []
    for key, value in (params or {}).items():
        if "." not in key:
            raise Error("params: '{}' is not NODE.PARAM".format(key))
        out.append("{}={}".format(key, json.dumps(value)))
    return out


def run(recipe, inputs=None, params=None, out=None, seed=None, threads=0, tensors=None, quiet=True):
    """Runs a recipe file and returns a Result.

    recipe:  path of a recipe JSON
    inputs:  {"NAME": path} binding the recipe's inputs (as --input NAME=PATH)
    params:  {"node.param": value} overrides (as --set node.param=VALUE; the
             value is passed as JSON)
    out:     output folder for the files; None: a temporary one
    seed:    the run's seed (as --seed)
    threads: threads to use (0: all cores)
    tensors: extra tensor ports "node.port" to collect, or "all"
    quiet:   no progress display (plugin warnings still go to stderr)
    """
    recipe = os.fspath(recipe)
    bound = {str(k): os.fspath(v) for k, v in (inputs or {}).items()}
    temporary = out is None
    out_dir = tempfile.mkdtemp(prefix="spotflow-") if temporary else os.fspath(out)
    extra = [] if tensors in (None, "all") else list(tensors)
    try:
        _, tables, captured = _spotflow.run(
            recipe, bound, _set_args(params), seed, out_dir, int(threads), extra, tensors == "all", bool(quiet),
            ["python", "spotflow.run", recipe])
    except BaseException:
        if temporary:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    frames = {key: table_to_dataframe(cols, rows) for key, (cols, rows) in tables.items()}
    arrays = {key: _tensor_to_numpy(t) for key, t in captured.items()}
    return Result(out_dir, frames, arrays, temporary)
