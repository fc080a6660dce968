// Fill a compiled XForm headless in ODK's web form engine (@getodk/xforms-engine,
// the engine under ODK Web Forms) and print the submission XML.
//
//   node fill.mjs FORM.xml ANSWERS.json [MEDIA_DIR]
//
// ANSWERS.json: {"/data/path": value, ...}, applied in order. Select-multiple values
// are arrays (or space-separated strings); repeats use [n] (1-based), e.g.
// "/data/g_concerns/case_alert[1]/concern_type". MEDIA_DIR defaults to forms/media;
// every jr://file-csv/X.csv the form references is read from there.
//
// Exit 0 and the XML on stdout when the instance is complete and valid; exit 1 with a
// JSON list of violated constraints / missing required answers on stderr otherwise;
// exit 2 when the form does not load or an answer cannot be set.
//
// Node needs jsdom's DOMParser/XMLSerializer/Node as globals (jsdom 29 for Node 20) and a
// dummy __dirname before the import (the bundled tree-sitter looks for it): design.md.

import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';

const here = dirname(fileURLToPath(import.meta.url));
const { window } = new JSDOM('');
for (const name of ['DOMParser', 'XMLSerializer', 'Node', 'Document', 'Element', 'document']) {
  globalThis[name] ??= window[name];
}
globalThis.__dirname ??= here;

const { createInstance } = await import('@getodk/xforms-engine');

const [formPath, answersPath, mediaArg] = process.argv.slice(2);
if (!formPath || !answersPath) {
  console.error('usage: node fill.mjs FORM.xml ANSWERS.json [MEDIA_DIR]');
  process.exit(2);
}
const mediaDir = resolve(mediaArg ?? join(here, '..', '..', 'forms', 'media'));
const formXml = readFileSync(formPath, 'utf8');
const answers = JSON.parse(readFileSync(answersPath, 'utf8'));

const fetchFormAttachment = async (url) => {
  const file = join(mediaDir, basename(decodeURIComponent(url.pathname ?? String(url))));
  const type = file.endsWith('.csv') ? 'text/csv' : 'application/octet-stream';
  return new Response(readFileSync(file), { status: 200, headers: { 'Content-Type': type } });
};

let instance;
try {
  instance = await createInstance(formXml, {
    form: { fetchFormAttachment, missingResourceBehavior: 'ERROR' },
  });
} catch (err) {
  console.error(`form did not load: ${err?.message ?? err}`);
  process.exit(2);
}
const root = instance.root;

function indexNodes() {
  const byRef = new Map();
  const byId = new Map();
  const walk = (node) => {
    const ref = node.currentState.reference;
    byRef.set(ref, node);
    byId.set(node.nodeId, ref);
    for (const child of node.currentState.children ?? []) walk(child);
  };
  walk(root);
  return { byRef, byId };
}

for (const [ref, value] of Object.entries(answers)) {
  const node = indexNodes().byRef.get(ref);
  if (!node) {
    console.error(`no such (or not relevant) node: ${ref}`);
    process.exit(2);
  }
  try {
    if (node.nodeType === 'select') {
      const multiple = node.definition?.bodyElement?.type === 'select';
      // Like a person at the screen, pick only among the options the form shows now
      // (this is what exercises choice_filter).
      const shown = new Set((node.currentState.valueOptions ?? []).map((o) => o.value));
      const wanted = Array.isArray(value) ? value : String(value ?? '').split(' ').filter(Boolean);
      const missing = wanted.filter((v) => !shown.has(v));
      if (missing.length) throw new Error(`not among the ${shown.size} options shown: ${missing}`);
      if (multiple) {
        node.selectValues(Array.isArray(value) ? value : String(value).split(' ').filter(Boolean));
      } else {
        node.selectValue(value === null ? null : String(value));
      }
    } else if (node.nodeType === 'input') {
      const vt = node.valueType;
      node.setValue(vt === 'int' || vt === 'decimal' ? Number(value) : String(value));
    } else {
      throw new Error(`node type ${node.nodeType} cannot take an answer`);
    }
  } catch (err) {
    console.error(`cannot set ${ref} = ${JSON.stringify(value)}: ${err?.message ?? err}`);
    process.exit(2);
  }
}

const payload = await root.prepareInstancePayload();
if (payload.status !== 'ready') {
  const { byId } = indexNodes();
  const violations = (payload.violations ?? []).map((v) => ({
    ref: byId.get(v.nodeId) ?? v.nodeId,
    condition: v.violation?.condition,
    message: v.violation?.message?.asString ?? null,
  }));
  console.error(JSON.stringify({ status: payload.status, violations }, null, 2));
  process.exit(1);
}
const file = payload.data[0].get('xml_submission_file');
process.stdout.write(await file.text());
process.stdout.write('\n');
