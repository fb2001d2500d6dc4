#!/usr/bin/env node
// Fails when the committed resolver types are not what `npm run codegen` makes from schema/.
// It regenerates into the working tree and compares with git's copy, so run it on a clean tree.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const file = 'src/graph/__generated__/resolvers.ts';
const before = readFileSync(file, 'utf8');
execFileSync('npx', ['graphql-codegen', '--config', 'codegen.yml', '--silent'], { stdio: 'inherit' });
const after = readFileSync(file, 'utf8');
if (before !== after) {
  console.error(`codegen: ${file} is stale; run \`npm run codegen\` and commit the result.`);
  process.exit(1);
}
console.log(`codegen: ${file} is current`);
