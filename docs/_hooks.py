"""mkdocs hook: publish the benchmark plots in `benchmarks/results/` as `results/NAME.png`, so
that `docs/benchmarks.md` shows whatever the scripts last drew (like the tables it includes)."""

import pathlib

from mkdocs.structure.files import File


def on_files(files, config):
    results = pathlib.Path(config["config_file_path"]).parent / "benchmarks" / "results"
    for png in sorted(results.rglob("*.png")):
        uri = "results/" + png.relative_to(results).as_posix()
        files.append(File.generated(config, uri, abs_src_path=str(png)))
    return files
