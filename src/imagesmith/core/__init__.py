"""The core: plugin interfaces and registry, the step runner, builds, artifacts, post-processor chains."""
