#!/usr/bin/env node
// Parses and semantically checks KQL queries with Microsoft's Kusto language
// service (@kusto/language-service-next) against the documented columns of the
// Log Analytics tables they read (tables.json).
//
// Usage: node check.js QUERIES.json
//   QUERIES.json: [{"name": "...", "kql": "..."}]
// Prints one JSON line per query: {"name", "ok", "diagnostics": [{severity, code, message, start, end}]}
// and exits 0 when every query is free of errors, 1 otherwise, 2 on bad input.
'use strict';
const fs = require('fs');
const path = require('path');

require('@kusto/language-service-next/bridge.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.js');
/* global Kusto, Bridge */

function globals() {
  const tables = JSON.parse(fs.readFileSync(path.join(__dirname, 'tables.json'), 'utf8'));
  const symbols = [];
  for (const [name, columns] of Object.entries(tables)) {
    if (name.startsWith('_')) continue;
    const schema = '(' + Object.entries(columns).map(([c, t]) => `['${c}']:${t}`).join(', ') + ')';
    symbols.push(new Kusto.Language.Symbols.TableSymbol.$ctor7(name, schema, null));
  }
  const db = new Kusto.Language.Symbols.DatabaseSymbol.$ctor3('workspace', null, symbols, false);
  return Kusto.Language.GlobalState.Default.WithDatabase(db);
}

function check(g, query) {
  const code = Kusto.Language.KustoCode.ParseAndAnalyze(query.kql, g);
  const diagnostics = Bridge.toArray(code.GetDiagnostics())
    .filter((d) => d.Severity === 'Error')
    .map((d) => ({ severity: d.Severity, code: d.Code, message: d.Message, start: d.Start, end: d.End }));
  return { name: query.name, ok: diagnostics.length === 0, diagnostics };
}

function main() {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node check.js QUERIES.json');
    process.exit(2);
  }
  let queries;
  try {
    queries = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    console.error(`cannot read ${file}: ${e.message}`);
    process.exit(2);
  }
  if (!Array.isArray(queries) || queries.length === 0) {
    console.error(`${file}: expected a non-empty array of {name, kql}`);
    process.exit(2);
  }
  const g = globals();
  let failed = 0;
  for (const q of queries) {
    const r = check(g, q);
    if (!r.ok) failed += 1;
    console.log(JSON.stringify(r));
  }
  process.exit(failed === 0 ? 0 : 1);
}

main();
