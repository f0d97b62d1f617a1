// A third-party connector in JavaScript, built with jco componentize against `wit/`: the
// seed config's offset paging (one request at a time), enough to check that components from
// the JavaScript toolchain fit the host's store limits and sync.

const fail = (path, message) => {
  throw { tag: 'config', val: { path, message } };
};

class Session {
  static open(config, _state) {
    const cfg = JSON.parse(config);
    const client = cfg.client || {};
    if (!client.base_url) fail('client.base_url', 'missing required key');
    const s = new Session();
    s.base = client.base_url.replace(/\/+$/, '');
    s.auth = undefined;
    const auth = client.auth;
    if (auth && auth.type === 'api_key') {
      const value = typeof auth.api_key === 'object'
        ? { tag: 'secret', val: auth.api_key.secret }
        : { tag: 'literal', val: auth.api_key };
      const named = { name: auth.name || 'api_key', value };
      s.auth = auth.location === 'query' ? { tag: 'query', val: named } : { tag: 'header', val: named };
    }
    const defaults = cfg.resource_defaults || {};
    const resource = cfg.resources[0];
    s.name = resource.name;
    s.primaryKey = [resource.primary_key || defaults.primary_key || 'id'];
    s.path = resource.endpoint.path;
    s.selector = resource.endpoint.data_selector || 'data';
    s.limit = resource.endpoint.paginator.limit;
    s.offset = 0;
    s.seq = 0n;
    s.waiting = false;
    s.done = false;
    return s;
  }

  resources() {
    return [{
      name: this.name,
      primaryKey: this.primaryKey,
      writeDisposition: 'merge',
      mergeStrategy: undefined,
      parent: undefined,
      selected: true,
      maxTableNesting: undefined,
      tableName: undefined,
      columns: [],
      mergeKey: [],
      schemaContract: { tables: 'evolve', columns: 'evolve', dataType: 'evolve' },
      nestedHints: [],
    }];
  }

  nextRequests(_name) {
    if (this.done || this.waiting) return [];
    this.waiting = true;
    const url = `${this.base}${this.path}?offset=${this.offset}&limit=${this.limit}`;
    return [{ seq: this.seq, method: 'get', url, headers: [], body: undefined, auth: this.auth }];
  }

  onResponse(_name, response) {
    this.waiting = false;
    this.seq += 1n;
    if (response.status !== 200) {
      throw { tag: 'response', val: { status: response.status, message: `HTTP ${response.status}` } };
    }
    const body = JSON.parse(new TextDecoder().decode(response.body));
    const records = body[this.selector] || [];
    this.offset += records.length;
    const total = body.total;
    this.done = records.length === 0 || (total !== undefined && this.offset >= total)
      || records.length < this.limit;
    return {
      records: JSON.stringify(records),
      count: records.length,
      state: JSON.stringify({ offset: this.offset }),
      done: this.done,
      notices: [],
    };
  }
}

export const source = {
  configSchema() {
    return '{"type": "object"}';
  },
  Session,
};
