// Loads dist/sandbox.js with the V8 code cache written at build time; a rejected or missing cache means
// an ordinary compile, never an error.
'use strict';
const fs = require('fs');
const path = require('path');

const wrapper = (source) => `(function (exports, require, module, __filename, __dirname) {${source}\n})`;

function load(file) {
  const vm = require('vm');
  const source = fs.readFileSync(file, 'utf8');
  let cachedData;
  try { cachedData = fs.readFileSync(file + '.cache'); } catch { cachedData = undefined; }
  const script = new vm.Script(wrapper(source), { filename: file, cachedData, importModuleDynamically: undefined });
  const mod = { exports: {} };
  const req = require('module').createRequire(file);
  script.runInThisContext()(mod.exports, req, mod, file, path.dirname(file));
  return mod.exports;
}

module.exports = { wrapper, load };
