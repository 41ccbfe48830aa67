"""Elasticsearch 8 as the lexical backend: the transport, the mapping and queries, and the index
writer that owns the indexes. The signal that searches them is matcher/signals/elasticsearch.py."""
