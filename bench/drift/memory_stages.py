"""Where the streamed drift path's memory goes: peak RSS as each stage is added back.

For each row count, generates the bench's seeded 20-column reference/current Parquet pair and
runs child processes over it, each doing one more stage than the last: `read` (Arrow
batches only, through `open_parquet`), `frame` (+ polars frames: `read_chunks`), `sketch`
(+ pass-1 sketches, samples), `compare` (+ pass-2 histograms and the report:
`compare_large`). One line per row count:
`rows=... read_mb=... frame_mb=... sketch_mb=... compare_mb=... arrow_pool_max_mb=... compare_s=...`
(`imports_mb` is a child that only imports, the floor under every stage; `default_read_mb` reads
with pyarrow's defaults, whose pre_buffer cache grows with the file). Flat means the same figures
at every row count.

    .venv/bin/python bench/drift/memory_stages.py [--rows N ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from run import generate_in_child, measure

STAGES = ("imports", "default_read", "read", "frame", "sketch", "compare")

STAGE_SCRIPT = """
import sys
from pathlib import Path
import pyarrow as pa
import pyarrow.parquet as pq
from self_healing_bot.drift.chunked import compare_large
from self_healing_bot.drift.chunks import CHUNK_ROWS, open_parquet, read_chunks
from self_healing_bot.drift.sketches import TableSketch
from self_healing_bot.drift.tables import TableFormat

stage, paths = sys.argv[1], [Path(name) for name in sys.argv[2:]]
if stage == "default_read":
    for path in paths:
        for _batch in pq.ParquetFile(path).iter_batches(batch_size=CHUNK_ROWS):
            pass
elif stage == "read":
    for path in paths:
        for _batch in open_parquet(path).iter_batches(batch_size=CHUNK_ROWS):
            pass
elif stage == "frame":
    for path in paths:
        for _chunk in read_chunks(path, TableFormat.PARQUET):
            pass
elif stage == "sketch":
    for seed, path in enumerate(paths):
        sketch = TableSketch(200_000, seed)
        for chunk in read_chunks(path, TableFormat.PARQUET):
            sketch.update(chunk.frame)
elif stage == "compare":
    compare_large(*paths)
print(pa.default_memory_pool().max_memory())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 4_000_000])
    arguments = parser.parse_args()
    for rows in arguments.rows:
        with tempfile.TemporaryDirectory() as directory:
            reference, current = generate_in_child(rows, Path(directory))
            figures = {}
            for stage in STAGES:
                command = [sys.executable, "-c", STAGE_SCRIPT, stage, str(reference), str(current)]
                seconds, peak_mb, output = measure(command)
                figures[stage] = (seconds, peak_mb, int(output) / 1e6)
        stages = " ".join(f"{stage}_mb={figures[stage][1]:.0f}" for stage in STAGES)
        print(
            f"rows={rows} {stages} arrow_pool_max_mb={figures['compare'][2]:.0f} "
            f"compare_s={figures['compare'][0]:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
