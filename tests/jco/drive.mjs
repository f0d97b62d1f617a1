// Drives the sluice connector, transpiled to JavaScript by jco, under Node: the whole seed
// sync loop (next-requests, fetch over loopback with the key injected, on-response) until the
// resource is done. Prints one JSON line: the resources and every record's id.
// Usage: node drive.mjs <connector.js> <base_url> <api_key>
const [, , module, baseUrl, key] = process.argv;
const { source } = await import(module);
const config = JSON.stringify({
  client: {
    base_url: baseUrl,
    auth: { type: 'api_key', name: 'api_key', api_key: { secret: 'api_key' }, location: 'query' },
  },
  resource_defaults: { primary_key: 'id', write_disposition: 'merge' },
  resources: [{
    name: 'inventory_items',
    endpoint: { path: '/v1/inventory', data_selector: 'data', paginator: { type: 'offset', limit: 100 } },
  }],
});
JSON.parse(source.configSchema());
const session = source.Session.open(config, []);
const resources = session.resources().map((r) => r.name);
const ids = [];
let done = false;
while (!done) {
  const requests = session.nextRequests('inventory_items');
  if (requests.length === 0) break;
  for (const req of requests) {
    const url = new URL(req.url);
    // The host's job: inject the credential the connector only names.
    if (req.auth && req.auth.tag === 'query') url.searchParams.set(req.auth.val.name, key);
    const res = await fetch(url);
    const body = new Uint8Array(await res.arrayBuffer());
    const headers = [...res.headers.entries()];
    const page = session.onResponse('inventory_items', { seq: req.seq, status: res.status, headers, body });
    if (!done) ids.push(...JSON.parse(page.records).map((r) => r.id));
    done = done || page.done;
  }
}
console.log(JSON.stringify({ resources, ids }));
