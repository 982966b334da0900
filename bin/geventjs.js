#!/usr/bin/env node
// The geventjs command. The build (dist/) is made by `npm install` (prepare) or `npm run build`.
import { main } from '../dist/cli.js';

const code = await main(process.argv.slice(2));
process.exit(code);
