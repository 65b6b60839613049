"""Policy retrieval: sentence embeddings and a FAISS index over policies/*.md."""
