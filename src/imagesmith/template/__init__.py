"""Templates: load Packer JSON, interpolate ``{{ }}``, decode blocks into typed configs."""
