import os
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPES = os.path.join(REPO, "examples", "recipes")


def spotflow_exe():
    exe = os.environ.get("SPOTFLOW")
    if not exe:
        pytest.skip("SPOTFLOW (the CLI) is not set")
    return exe


@pytest.fixture(scope="session")
def small_movie(tmp_path_factory):
    """One small simulated movie (48 x 48, 12 frames, 4 tracks) and its truth."""
    d = tmp_path_factory.mktemp("sim")
    subprocess.run([spotflow_exe(), "simulate", "--output", str(d / "data"), "--num_samples", "1", "--num_tracks", "4",
                    "--num_frames", "12", "--image_size", "48", "--seed", "3", "--quiet"], check=True)
    return {"movie": str(d / "data" / "sample_000" / "movie.tif"),
            "truth": str(d / "data" / "sample_000" / "ground_truth_tracks.csv")}
