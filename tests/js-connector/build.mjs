// Builds source.js into a component with componentize-js (the engine under `jco
// componentize`), against the WIT package. Usage: node build.mjs <source.js> <wit dir> <out.wasm>
import { componentize } from '@bytecodealliance/componentize-js';
import { readFile, writeFile } from 'node:fs/promises';

const [, , source, witPath, out] = process.argv;
const { component } = await componentize(await readFile(source, 'utf8'), {
  witPath,
  worldName: 'connector',
  // A connector imports nothing but WASI basics: no HTTP of its own.
  disableFeatures: ['http', 'fetch-event'],
});
await writeFile(out, component);
