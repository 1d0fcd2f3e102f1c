"""All-core compression for artifacts: gzip (ISA-L), zstd, xz, lz4, bgzf, and tar/zip archives.

Everything here is blocking and meant for worker threads; :func:`run_cancellable` runs such
work from the event loop so that Ctrl-C stops it. Importing this package is cheap: the codec
libraries load only when a compressor is opened.
"""

from imagesmith.compression.archive import CompressionCancelled, ProgressFn
from imagesmith.compression.codecs import ALGORITHMS, count_threads, open_compressor
from imagesmith.compression.job import CompressJob, run_cancellable, run_job

__all__ = [
    "ALGORITHMS",
    "CompressJob",
    "CompressionCancelled",
    "ProgressFn",
    "count_threads",
    "open_compressor",
    "run_cancellable",
    "run_job",
]
