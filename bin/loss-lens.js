#!/usr/bin/env node
// The `loss-lens` command: the bundled CLI, built by `npm run build` (run by `npm install` through `prepare`).
require('../server/out/cli.js').main();
