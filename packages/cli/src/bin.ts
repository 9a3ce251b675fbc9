#!/usr/bin/env node
import { run } from './program.js';

// An exit code, not process.exit(): stdout may still be flushing into a pipe, and `serve` keeps running.
process.exitCode = await run(process.argv.slice(2));
