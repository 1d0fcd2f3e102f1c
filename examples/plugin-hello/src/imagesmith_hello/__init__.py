"""An example imagesmith plugin package (docs/plugins.md walks through it)."""
