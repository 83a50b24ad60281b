"""Developer scripts: the demo runner, the bootstrap, doc generators."""
