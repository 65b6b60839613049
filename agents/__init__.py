"""The support agent: offline language understanding, the LLM brain, and the pipeline."""
