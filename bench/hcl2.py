"""Parse and evaluate a 2,500-line Packer-style HCL2 template (issue 14, point 10: goal <= 0.1 s).

Usage: python bench/hcl2.py [--repeat N] [--lines N] [--sources N]

Also: ``validate`` of a template with N null sources (default 100; goal < 0.5 s), imagesmith's CLI
and Packer 1.6.6's side by side: wall time of the whole command, and its CPU time (user + system,
with its children: Packer's plugin processes), which a shared host inflates less.

The template has variables, locals, sources and builds whose attributes use function calls,
templates with directives, heredocs, for expressions and splats. "imagesmith" parses it with
imagesmith.hcl2 and evaluates every attribute of every block (variables and locals in order);
"python-hcl2" (only if installed) parses it to a dict, with no evaluation, as the library offers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# This file is named hcl2.py, like python-hcl2's package: keep its own directory off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent / "src"))

from imagesmith.hcl2 import ast  # noqa: E402
from imagesmith.hcl2.diagnostics import Diagnostics, raise_if_errors  # noqa: E402
from imagesmith.hcl2.evaluator import EvalContext, evaluate  # noqa: E402
from imagesmith.hcl2.functions import standard_functions  # noqa: E402
from imagesmith.hcl2.parser import parse_config  # noqa: E402
from imagesmith.hcl2.references import referenced_attrs  # noqa: E402
from imagesmith.hcl2.values import Value, from_python, object_val  # noqa: E402

CHUNK = """variable "image_{n}" {{
  type        = string
  default     = "debian-{n}"
  description = "Base image number {n}"
}}

locals {{
  name_{n}  = "${{var.image_{n}}}-${{lower("BUILD")}}-{n}"
  tags_{n}  = {{ for k, v in {{ env = "prod", team = "ops", idx = "{n}" }} : upper(k) => v }}
  list_{n}  = [for i in range(3) : format("disk-%02d-%d", i, {n})]
  joined_{n} = join(",", concat(local.list_{n}, ["extra"]))
}}

source "docker" "img_{n}" {{
  image   = var.image_{n}
  commit  = true
  changes = ["ENV N={n}", "LABEL name=${{local.name_{n}}}"]
  run_command = ["-d", "-i", "-t", "--", "{{{{.Image}}}}"]
}}

build {{
  name    = "build-{n}"
  sources = ["source.docker.img_{n}"]

  provisioner "shell" {{
    inline = [
      "echo ${{local.joined_{n}}}",
      "echo %{{ if length(local.list_{n}) > 2 }}many%{{ else }}few%{{ endif }}",
    ]
    environment_vars = [for k, v in local.tags_{n} : "${{k}}=${{v}}"]
  }}

  provisioner "file" {{
    content     = <<-EOT
      Hello from ${{local.name_{n}}}
      %{{ for d in local.list_{n} ~}}
      disk ${{d}}
      %{{ endfor ~}}
    EOT
    destination = "/tmp/file-{n}.txt"
  }}

  post-processor "manifest" {{
    output = "manifest-{n}.json"
    strip_path = 1 + 2 * 3 > 4 && !false
  }}
}}
"""


def make_template(lines: int) -> str:
    """At least ``lines`` lines of template."""
    parts: list[str] = []
    count = 0
    n = 0
    while count < lines:
        chunk = CHUNK.format(n=n)
        parts.append(chunk)
        count += chunk.count("\n")
        n += 1
    return "".join(parts)


def _eval_body(body: ast.Body, ctx: EvalContext, diags: Diagnostics) -> None:
    for attr in body.attributes.values():
        evaluate(attr.expr, ctx, diags)
    for block in body.blocks:
        _eval_body(block.body, ctx, diags)


def run_imagesmith(text: str) -> None:
    """Parse, then evaluate variables' defaults, locals in order, and everything else."""
    body, diags = parse_config(text, "bench.pkr.hcl")
    raise_if_errors(diags)
    functions = standard_functions()
    variables: dict[str, Value] = {}
    const = EvalContext({}, functions)
    for block in body.blocks:
        if block.type == "variable":
            variables[block.labels[0]] = evaluate(block.body.attributes["default"].expr, const, diags)
    locals_: dict[str, Value] = {}
    scope: dict[str, Value] = {"var": object_val(variables)}
    ctx = EvalContext(scope, functions)
    for block in body.blocks:
        if block.type == "locals":
            for name, attr in block.body.attributes.items():
                # each local sees the locals it refers to (they come first in this template)
                needed = referenced_attrs(attr.expr, "local")
                scope["local"] = object_val({n: locals_[n] for n in needed})
                locals_[name] = evaluate(attr.expr, ctx, diags)
    scope["local"] = object_val(locals_)
    for block in body.blocks:
        if block.type in ("source", "build"):
            _eval_body(block.body, ctx, diags)
    raise_if_errors(diags)


def run_python_hcl2(text: str) -> None:
    import hcl2  # type: ignore[import-not-found]  # optional, measured only when installed

    hcl2.loads(text)


def measure(fn: object, text: str, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run (CPU time is the fairer figure on a shared host)."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn(text)  # type: ignore[operator]
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


VALIDATE_SOURCE = """source "null" "s{n}" {{
  communicator = "none"
}}
"""


def make_validate_template(sources: int) -> str:
    """``sources`` null sources, one build over all of them with a provisioner and a post-processor."""
    names = ", ".join(f'"source.null.s{n}"' for n in range(sources))
    blocks = "".join(VALIDATE_SOURCE.format(n=n) for n in range(sources))
    return (f'variable "greeting" {{\n  default = "hi"\n}}\n{blocks}build {{\n  sources = [{names}]\n'
            '  provisioner "shell-local" {\n    inline = ["echo ${var.greeting} ${source.name}"]\n  }\n'
            '  post-processor "manifest" {}\n}\n')


def measure_validate(sources: int, repeat: int) -> None:
    """Wall seconds of ``validate`` on a ``sources``-source template: imagesmith's CLI and Packer's."""
    import os
    import resource
    import shutil
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "many.pkr.hcl"
        path.write_text(make_validate_template(sources))
        env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
        commands = [("imagesmith validate", [sys.executable, "-m", "imagesmith", "validate", str(path)])]
        if shutil.which("packer"):
            commands.append(("packer 1.6.6 validate", ["packer", "validate", str(path)]))
        for name, argv in commands:
            walls, cpus = [], []
            for _ in range(repeat):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp)
                walls.append(time.perf_counter() - start)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                if done.returncode != 0:
                    print(f"{name}: failed: {done.stdout}{done.stderr}")
                    break
            print(f"{name}, {sources} sources: wall min {min(walls):.3f} s / median {statistics.median(walls):.3f} s, "
                  f"CPU (user+sys, the command and its children) min {min(cpus):.3f} s / "
                  f"median {statistics.median(cpus):.3f} s")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--lines", type=int, default=2500)
    ap.add_argument("--sources", type=int, default=100, help="sources in the validate benchmark (0: skip it)")
    args = ap.parse_args()
    if args.sources:
        measure_validate(args.sources, args.repeat)
    text = make_template(args.lines)
    print(f"template: {text.count(chr(10))} lines, {len(text)} bytes")
    run_imagesmith(text)  # warm-up: imports, regex compilation
    rows = [("imagesmith.hcl2 (parse + evaluate)", measure(run_imagesmith, text, args.repeat))]
    try:
        import hcl2  # noqa: F401

        rows.append(("python-hcl2 (parse only)", measure(run_python_hcl2, text, max(1, args.repeat // 3))))
    except ImportError:
        print("python-hcl2: not installed, skipped")
    for name, (walls, cpus) in rows:
        runs = ", ".join(f"{t:.3f}" for t in walls)
        print(f"{name}: wall median {statistics.median(walls):.3f} s, CPU min {min(cpus):.3f} s / median "
              f"{statistics.median(cpus):.3f} s (wall runs: {runs})")
    _ = from_python


if __name__ == "__main__":
    main()
