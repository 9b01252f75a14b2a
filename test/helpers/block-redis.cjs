// Preloaded (node -r) to run a process as if the optional peer dependency `redis` were not
// installed: resolving it fails the way a missing package does (MODULE_NOT_FOUND).
'use strict';
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'redis' || request.startsWith('@redis/')) {
    const err = new Error(`Cannot find module '${request}'`);
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
