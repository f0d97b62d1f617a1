"""The `session` resource of the exported `source` interface (see app.py)."""

import json
from typing import List, Tuple

from componentize_py_types import Err
from wit_world.exports import source as wit
from wit_world.imports import types as t


def config_error(path: str, message: str) -> Err:
    return Err(t.Error_Config(t.ConfigError(path=path, message=message)))


class Session(wit.Session):
    @classmethod
    def open(cls, config: str, state: List[Tuple[str, str]]) -> "Session":
        cfg = json.loads(config)
        client = cfg.get("client") or {}
        if "base_url" not in client:
            raise config_error("client.base_url", "missing required key")
        session = cls()
        session.base = client["base_url"].rstrip("/")
        session.auth = None
        auth = client.get("auth")
        if auth and auth.get("type") == "api_key":
            key = auth.get("api_key")
            value = t.Credential_Secret(key["secret"]) if isinstance(key, dict) else t.Credential_Literal(key)
            named = t.NamedCredential(name=auth.get("name", "api_key"), value=value)
            session.auth = t.Auth_Query(named) if auth.get("location") == "query" else t.Auth_Header(named)
        defaults = cfg.get("resource_defaults") or {}
        resource = cfg["resources"][0]
        endpoint = resource["endpoint"]
        session.name = resource["name"]
        session.primary_key = [resource.get("primary_key", defaults.get("primary_key", "id"))]
        session.path = endpoint["path"]
        session.selector = endpoint.get("data_selector", "data")
        session.limit = endpoint["paginator"]["limit"]
        session.offset = 0
        session.seq = 0
        session.waiting = False
        session.done = False
        return session

    def resources(self) -> List[t.ResourceInfo]:
        return [t.ResourceInfo(name=self.name, primary_key=self.primary_key,
                               write_disposition=t.WriteDisposition.MERGE,
                               merge_strategy=None, parent=None,
                               selected=True, max_table_nesting=None, table_name=None,
                               columns=[], merge_key=[],
                               schema_contract=t.SchemaContract(
                                   tables=t.ContractMode.EVOLVE,
                                   columns=t.ContractMode.EVOLVE,
                                   data_type=t.ContractMode.EVOLVE),
                               nested_hints=[])]

    def next_requests(self, name: str) -> List[t.Request]:
        if self.done or self.waiting:
            return []
        self.waiting = True
        url = f"{self.base}{self.path}?offset={self.offset}&limit={self.limit}"
        return [t.Request(seq=self.seq, method=t.Method.GET, url=url, headers=[], body=None,
                          auth=self.auth)]

    def on_response(self, name: str, response: t.Response) -> t.Page:
        self.waiting = False
        self.seq += 1
        if response.status != 200:
            raise Err(t.Error_Response(t.ResponseError(status=response.status,
                                                       message=f"HTTP {response.status}")))
        body = json.loads(response.body)
        records = body.get(self.selector) or []
        self.offset += len(records)
        total = body.get("total")
        self.done = not records or (total is not None and self.offset >= total) \
            or len(records) < self.limit
        return t.Page(records=json.dumps(records), count=len(records),
                      state=json.dumps({"offset": self.offset}), done=self.done, notices=[])
