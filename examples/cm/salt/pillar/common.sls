greeting: hello from the pillar
