"""The live catalog as one immutable view, and the search structures built over it.

The matcher holds exactly one live `CatalogView` (`LiveView`); a catalog change produces a
new view and swaps it in. Signals only read a view: the writes all happen here (and, for
remote indexes such as Elasticsearch, in their own writers), once per change.
"""

from matcher.catalog_view.live import LiveView
from matcher.catalog_view.view import CatalogView, CatalogViewBuilder

__all__ = ["CatalogView", "CatalogViewBuilder", "LiveView"]
