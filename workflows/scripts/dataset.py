"""A dataset of movies: a folder or a manifest CSV, read into one list.

Folder: every *.tif / *.tiff in it is a movie named by its stem; a folder
with none is read one level down, as `spotflow simulate` writes it
(DIR/sample_000/movie.tif + ground_truth_tracks.csv [+ calcium.tif]): each
subfolder holding movie.tif (or exactly one TIFF that is not calcium.tif) is
a movie named after the subfolder, with its ground_truth_tracks.csv and
calcium.tif when present.

Manifest: a CSV with a header; column `movie` (required), `calcium` (or
`channel2`, a second channel), `truth` (ground truth) and `stem` (the
movie's name; default the movie file's stem, or its folder's name when the
file is movie.tif) optional. Relative paths are relative to the manifest.

Each problem is one DatasetError line naming the file, the row and column.
"""
import csv
import os

TIFF = (".tif", ".tiff")
TRUTH_NAMES = ("ground_truth_tracks.csv", "truth.csv")
CALCIUM_NAMES = ("calcium.tif", "calcium.tiff")


class DatasetError(Exception):
    pass


def _stem(path):
    base = os.path.basename(path)
    stem = os.path.splitext(base)[0]
    if stem == "movie":  # the simulate layout: the folder names the movie
        stem = os.path.basename(os.path.dirname(os.path.abspath(path))) or stem
    return stem


def _first(folder, names):
    for n in names:
        p = os.path.join(folder, n)
        if os.path.isfile(p):
            return p
    return ""


def from_folder(folder):
    entries = sorted(os.listdir(folder))
    movies = []
    tiffs = [e for e in entries if e.lower().endswith(TIFF) and os.path.isfile(os.path.join(folder, e))
             and e.lower() not in CALCIUM_NAMES]
    for e in tiffs:
        path = os.path.join(folder, e)
        stem = os.path.splitext(e)[0]
        truth = _first(folder, [stem + "_truth.csv", stem + "_ground_truth_tracks.csv"])
        calcium = _first(folder, [stem + "_calcium.tif", stem + "_calcium.tiff"])
        movies.append({"stem": stem, "movie": path, "calcium": calcium, "truth": truth})
    if not movies:
        for e in entries:
            sub = os.path.join(folder, e)
            if not os.path.isdir(sub):
                continue
            movie = _first(sub, ["movie.tif", "movie.tiff"])
            if not movie:
                cands = [f for f in sorted(os.listdir(sub)) if f.lower().endswith(TIFF) and f.lower() not in CALCIUM_NAMES]
                if len(cands) != 1:
                    continue
                movie = os.path.join(sub, cands[0])
            movies.append({"stem": e, "movie": movie, "calcium": _first(sub, CALCIUM_NAMES),
                           "truth": _first(sub, TRUTH_NAMES)})
    if not movies:
        raise DatasetError("{}: no movies (no *.tif or *.tiff in it, nor in its subfolders as DIR/NAME/movie.tif)".format(folder))
    return movies


def from_manifest(path):
    base = os.path.dirname(os.path.abspath(path))
    try:
        f = open(path, newline="")
    except OSError as e:
        raise DatasetError("{}: cannot read the manifest: {}".format(path, e.strerror))
    with f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "movie" not in [c.strip() for c in reader.fieldnames]:
            raise DatasetError("{}: the manifest has no 'movie' column (header: {})".format(
                path, ",".join(reader.fieldnames or []) or "none"))
        movies = []
        for i, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            entry = {"stem": row.get("stem", ""), "movie": "", "calcium": "", "truth": ""}
            for col, key in (("movie", "movie"), ("calcium", "calcium"), ("channel2", "calcium"), ("truth", "truth")):
                value = row.get(col, "")
                if not value:
                    if col == "movie":
                        raise DatasetError("{}: line {}: column 'movie' is empty".format(path, i))
                    continue
                p = value if os.path.isabs(value) else os.path.join(base, value)
                if not os.path.isfile(p):
                    raise DatasetError("{}: line {}: column '{}': no such file '{}'".format(path, i, col, value))
                entry[key] = p
            entry["stem"] = entry["stem"] or _stem(entry["movie"])
            movies.append(entry)
    if not movies:
        raise DatasetError("{}: the manifest lists no movies".format(path))
    return movies


def read(path):
    """The movies of a folder or manifest, each {stem, movie, calcium, truth}; checked."""
    if not os.path.exists(path):
        raise DatasetError("{}: no such folder or manifest".format(path))
    movies = from_folder(path) if os.path.isdir(path) else from_manifest(path)
    seen = {}
    for m in movies:
        if "/" in m["stem"] or m["stem"] in ("", ".", ".."):
            raise DatasetError("{}: movie '{}': '{}' cannot name an output folder".format(path, m["movie"], m["stem"]))
        if m["stem"] in seen:
            raise DatasetError("{}: two movies are named '{}' ({} and {}); give a 'stem' column".format(
                path, m["stem"], seen[m["stem"]], m["movie"]))
        seen[m["stem"]] = m["movie"]
        for k in ("movie", "calcium", "truth"):
            if m[k]:
                m[k] = os.path.abspath(m[k])
    return movies
