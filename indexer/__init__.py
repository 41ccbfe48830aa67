"""Offline work: loading catalogs and history, building indexes and training models."""
