"""A sluice connector written in Python (componentize-py), for the toolchain test: the
offset paginator of the seed config, `client.auth` api_key in the query, `data_selector`
a top-level key. Enough to sync `examples/inventory.json`; not a general connector. The
`session` resource of the exported `source` interface is in `source.py`, where
componentize-py looks for it."""

from wit_world import exports


class Source(exports.Source):
    def config_schema(self) -> str:
        return '{"type": "object"}'
