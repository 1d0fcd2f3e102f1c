"""Post-processor chains: which artifacts a build keeps, exactly as Packer 1.6.6's ``CoreBuild.Run``.

Each chain starts from the builder's artifact. For every post-processor the keep decision is
its default, overridden by the user's ``keep_input_artifact`` unless the post-processor forces
keeping (default keep and force override, e.g. checksum, manifest, shell-local). For the first
post-processor of a chain, "keep" flags the builder's artifact to be kept; later ones keep or
destroy the artifact they were given. An error or a missing artifact abandons the rest of
that chain only. The builder's artifact is kept when there are no chains or when any first
post-processor asked to keep it; otherwise it is destroyed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from imagesmith.core.plugin import Artifact
from imagesmith.core.prepared import PreparedPostProcessor
from imagesmith.errors import ImagesmithError
from imagesmith.log import logger
from imagesmith.ui import TargetedUi, Ui


@dataclass
class ChainResult:
    """Artifacts to report (the builder's first when kept) and the errors met on the way."""

    artifacts: list[Artifact] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def decide_keep(pp: PreparedPostProcessor, default_keep: bool, force_override: bool) -> bool:
    """Packer's keep rule for one post-processor's input artifact."""
    if pp.keep_input_artifact is None:
        return default_keep
    if default_keep and not pp.keep_input_artifact and force_override:
        logger.info("The %s post-processor forces keep_input_artifact=true; the user's false is ignored", pp.type_name)
        return True
    return pp.keep_input_artifact


async def run_chains(
    chains: Sequence[Sequence[PreparedPostProcessor]],
    builder_artifact: Artifact,
    build_ui: Ui,
    base_ui: Ui,
    build_name: str,
    color: str = "",
) -> ChainResult:
    """Run every chain on ``builder_artifact``; destroy what is not kept."""
    result = ChainResult()
    keep_original = len(chains) == 0
    for chain in chains:
        prior = builder_artifact
        ended = False
        for i, pp in enumerate(chain):
            pp_ui = TargetedUi(base_ui, f"{build_name} ({pp.type_name})", color)
            if pp.name == pp.type_name:
                build_ui.say(f"Running post-processor: {pp.type_name}")
            else:
                build_ui.say(f"Running post-processor: {pp.name} (type {pp.type_name})")
            try:
                outcome = await pp.plugin.post_process(pp_ui, prior)
            except ImagesmithError as exc:
                result.errors.append(f"Post-processor failed: {exc}")
                ended = True
                break
            if outcome.artifact is None:
                logger.info("Nil artifact, halting post-processor chain.")
                ended = True
                break
            keep = decide_keep(pp, outcome.keep, outcome.force_override)
            if i == 0:
                keep_original = keep_original or keep
            elif keep:
                result.artifacts.append(prior)
            else:
                await _destroy(prior, result, f"Failed cleaning up prior artifact: {{}}; pp is {pp.type_name}")
            prior = outcome.artifact
        if not ended:
            # An abandoned chain's intermediate artifact is neither reported nor destroyed (as in Packer).
            result.artifacts.append(prior)
    if keep_original:
        result.artifacts.insert(0, builder_artifact)
    else:
        logger.info("Deleting original artifact for build '%s'", build_name)
        await _destroy(builder_artifact, result, "Error destroying builder artifact: {}")
    return result


async def _destroy(artifact: Artifact, result: ChainResult, template: str) -> None:
    try:
        await artifact.destroy()
    except (ImagesmithError, OSError) as exc:
        result.errors.append(template.format(exc))
