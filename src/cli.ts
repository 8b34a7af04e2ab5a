#!/usr/bin/env node
import { main } from './commands/program.js';

await main(process.argv);
