"""The policy knowledge base: ingest, chunk, embed, index and search government documents.

Shared by the answering action, the staff CLI (`python -m knowledge_base`) and the staff web page.
"""
