"""Where the shared public datasets are: ``../shared/datasets`` beside the checkout, as CI lays it
out. Tests that need them skip with this path in the reason when it is absent."""

from pathlib import Path

SHARED_DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
