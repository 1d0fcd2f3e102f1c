"""steps plugins; see imagesmith.core.registry for how they are found."""
