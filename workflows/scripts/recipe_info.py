"""What the dataset workflow needs to know of a recipe: which input a movie
binds, whether it takes a calcium channel or ground truth itself, and the
job's memory and run time from its plugins (workflows/resources.json)."""
import json
import os


class RecipeError(Exception):
    pass


def read(path, movie_input=None):
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise RecipeError("{}: cannot read the recipe: {}".format(path, e.strerror))
    except ValueError as e:
        raise RecipeError("{}: not JSON: {}".format(path, e))
    inputs = doc.get("inputs") or {}
    required = [n for n, d in inputs.items() if not (isinstance(d, dict) and d.get("optional"))]
    if movie_input:
        if movie_input not in inputs:
            raise RecipeError("{}: the recipe has no input '{}' (inputs: {})".format(path, movie_input, ", ".join(inputs) or "none"))
    else:
        movie_required = [n for n in required if n != "truth"]
        if len(movie_required) != 1:
            raise RecipeError("{}: a dataset run binds each movie to the recipe's one required input, but it has {} ({}); "
                              "choose one with input=NAME".format(path, len(movie_required), ", ".join(movie_required) or "none"))
        movie_input = movie_required[0]
    plugins = sorted({n.get("plugin", "") for n in doc.get("nodes", [])})
    return {
        "name": doc.get("name", os.path.splitext(os.path.basename(path))[0]),
        "movie_input": movie_input,
        "calcium_input": "calcium" if "calcium" in inputs and movie_input != "calcium" else "",
        "truth_input": "truth" if "truth" in inputs else "",
        "plugins": plugins,
    }


def resources(info, table_path):
    """The largest memory and run time any of the recipe's plugins asks for."""
    with open(table_path) as f:
        table = json.load(f)
    mem = table["default"]["mem_mb"]
    runtime = table["default"]["runtime_min"]
    for p in info["plugins"]:
        r = table["plugins"].get(p, {})
        mem = max(mem, r.get("mem_mb", 0))
        runtime = max(runtime, r.get("runtime_min", 0))
    return {"mem_mb": mem, "runtime": runtime}
